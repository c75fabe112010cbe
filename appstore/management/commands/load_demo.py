from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from appstore.demo import CONFIGURED_APP, DEMO_PASSWORD, load_demo, partner_service_url


def _shown(path: Path) -> str:
    """The path relative to the project when it lies inside it, as the README names it."""
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = "Load demo accounts, tenants, partners and App Store listings (safe to run again)."

    def handle(self, *args, **options) -> None:
        result = load_demo()
        if result.created_apps:
            self.stdout.write(f"Created {len(result.created_apps)} demo apps.")
        elif not result.partner_settings_written:
            self.stdout.write("Demo data already present; nothing changed.")
        if result.partner_settings_path is not None:
            where = _shown(result.partner_settings_path)
            done = "written to" if result.partner_settings_written else "unchanged in"
            self.stdout.write(
                f"{CONFIGURED_APP}'s sod client secret and private key for the reference partner service "
                f"({partner_service_url()}) {done} {where}: development only, never use them elsewhere.")
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
        # ERP sync of the demo tenant (the integrations app, reached by command name).
        call_command("erp_demo", stdout=self.stdout)
        width = max(len(email) for email, _ in result.accounts)
        self.stdout.write(f"\nDemo accounts (password: {DEMO_PASSWORD}; development only):")
        for email, role in result.accounts:
            self.stdout.write(f"  {email.ljust(width)}  {role}")

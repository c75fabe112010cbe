from django.core.management.base import BaseCommand

from appstore.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load demo accounts, tenants, partners and App Store listings (safe to run again)."

    def handle(self, *args, **options) -> None:
        result = load_demo()
        if result.created_apps:
            self.stdout.write(f"Created {len(result.created_apps)} demo apps.")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        width = max(len(email) for email, _ in result.accounts)
        self.stdout.write(f"\nDemo accounts (password: {DEMO_PASSWORD}; development only):")
        for email, role in result.accounts:
            self.stdout.write(f"  {email.ljust(width)}  {role}")

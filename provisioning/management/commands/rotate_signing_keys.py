from django.core.management.base import BaseCommand, CommandError

from provisioning.services.signing_keys import rotate
from tenants.models import Environment


class Command(BaseCommand):
    help = (
        "Give an environment a new signing key. The retiring key stays in the JWKS for the grace "
        "period (SIGNING_KEY_GRACE_SECONDS, or --grace-hours) so tokens it signed still verify."
    )

    def add_arguments(self, parser):
        parser.add_argument("environment", help="sod, stage or online")
        parser.add_argument("--grace-hours", type=float, default=None)

    def handle(self, *args, environment: str, grace_hours: float | None, **options):
        from datetime import timedelta

        env = Environment.objects.filter(code=environment).first()
        if env is None:
            codes = ", ".join(Environment.objects.values_list("code", flat=True))
            raise CommandError(f"No environment {environment!r}; choose one of: {codes}.")
        if grace_hours is not None and grace_hours < 0:
            raise CommandError("--grace-hours cannot be negative.")
        grace = timedelta(hours=grace_hours) if grace_hours is not None else None
        new, old = rotate(environment=env, grace=grace)
        self.stdout.write(f"{env.code}: new signing key {new.kid}")
        if old is not None:
            self.stdout.write(
                f"{env.code}: {old.kid} stays in the JWKS until {old.published_until:%Y-%m-%d %H:%M} UTC"
            )

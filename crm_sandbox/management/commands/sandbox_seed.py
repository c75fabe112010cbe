import re

from django.core.management.base import BaseCommand, CommandError

from crm_sandbox.seed import seed

ENVIRONMENTS = ("sod", "stage", "online")


class Command(BaseCommand):
    help = ("Fill a tenant's CRM sandbox with demo companies and persons (the same ones on every run); "
            "does nothing when the tenant already has companies.")

    def add_arguments(self, parser):
        parser.add_argument("environment", help="sod, stage or online")
        parser.add_argument("context_identifier", help="the tenant, e.g. Cust10001")
        parser.add_argument("--companies", type=int, default=300, help="how many companies (default 300)")

    def handle(self, *args, environment: str, context_identifier: str, companies: int, **options):
        if environment not in ENVIRONMENTS:
            raise CommandError(f"No environment {environment!r}; choose one of: {', '.join(ENVIRONMENTS)}.")
        if not re.fullmatch(r"Cust[0-9]{1,18}", context_identifier):
            raise CommandError("A context identifier is 'Cust' followed by digits, e.g. Cust12345.")
        if not 1 <= companies <= 100_000:
            raise CommandError("--companies must be from 1 to 100000.")
        created, persons = seed(environment_code=environment, context_identifier=context_identifier,
                                companies=companies)
        where = f"{environment}/{context_identifier}"
        if created:
            self.stdout.write(f"Sandbox {where}: {created} companies and {persons} persons created.")
        else:
            self.stdout.write(f"Sandbox {where} already has companies; nothing changed.")

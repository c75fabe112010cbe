from django.core.management.base import BaseCommand, CommandError

from provisioning.services.resource_servers import create_resource_server
from tenants.models import Environment


class Command(BaseCommand):
    help = ("Register a resource server (a tenant CRM API) that may introspect every token of an "
            "environment. Prints its client ID and secret once; only the secret's hash is kept.")

    def add_arguments(self, parser):
        parser.add_argument("environment", help="sod, stage or online")
        parser.add_argument("name", help="what the server is, e.g. 'CRM API sod'")

    def handle(self, *args, environment: str, name: str, **options):
        env = Environment.objects.filter(code=environment).first()
        if env is None:
            codes = ", ".join(Environment.objects.values_list("code", flat=True))
            raise CommandError(f"No environment {environment!r}; choose one of: {codes}.")
        try:
            server, secret = create_resource_server(environment=env, name=name)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"client_id={server.client_id}\nclient_secret={secret}\n"
                          "The secret is shown once: store it now.")

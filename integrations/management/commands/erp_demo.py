from django.core.management.base import BaseCommand

from appstore.demo import erp_connector_url
from integrations.demo import CONTEXT_IDENTIFIER, ENVIRONMENT, ensure_demo_connection


class Command(BaseCommand):
    help = ("Install Acme ERP for the demo tenant and give it an active ERP connection to the reference "
            "ERP connector (safe to run again).")

    def handle(self, *args, **options) -> None:
        result = ensure_demo_connection(erp_connector_url())
        if result.note:
            self.stdout.write(self.style.WARNING(result.note))
            return
        connection = result.connection
        done = "created" if result.created else "already present"
        self.stdout.write(
            f"ERP connection {connection.name} ({connection.connection_id}) of "
            f"{ENVIRONMENT}/{CONTEXT_IDENTIFIER} {done}: it syncs every {connection.sync_interval} "
            "seconds with the reference ERP connector.")

from django.core.management.base import BaseCommand

from provisioning.services.resource_servers import ensure_sandbox_resource_servers


class Command(BaseCommand):
    help = ("Make sure the CRM sandbox may introspect tokens: a resource server crm-sandbox-<env> per "
            "environment whose secret is CRM_SANDBOX_CLIENT_SECRET. Safe to repeat.")

    def handle(self, *args, **options):
        ensure_sandbox_resource_servers()
        self.stdout.write("CRM sandbox resource servers are in place.")

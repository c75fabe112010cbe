"""Resource servers: services (a tenant's CRM API) that introspect any token of one environment."""

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from appstore.hashers import hash_generated_secret
from audit.models import AuditEntry
from audit.services import record
from tenants.models import Environment

from ..models import ResourceServer


@sensitive_variables("raw")
@transaction.atomic
def create_resource_server(*, environment: Environment, name: str) -> tuple[ResourceServer, str]:
    """A new resource server; the raw secret is returned once and only its hash is kept."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValueError("A resource server needs a name of at most 120 characters.")
    raw = secrets.token_urlsafe(32)
    server = ResourceServer.objects.create(environment=environment, name=name, client_id=uuid.uuid4().hex,
                                           secret_hash=hash_generated_secret(raw))
    record(event_type="resource_server.created", source=AuditEntry.Source.SYSTEM,
           message=f"Resource server {name} created for {environment.code} (client ID {server.client_id})")
    return server, raw


def sandbox_client_id(environment_code: str) -> str:
    return f"crm-sandbox-{environment_code}"


@transaction.atomic
def ensure_sandbox_resource_servers() -> None:
    """The CRM sandbox introspects as ``crm-sandbox-<env>`` with ``CRM_SANDBOX_CLIENT_SECRET``: make
    sure every environment has that resource server and that its stored hash matches the secret."""
    secret = settings.CRM_SANDBOX_CLIENT_SECRET
    for environment in Environment.objects.all():
        client_id = sandbox_client_id(environment.code)
        server = ResourceServer.objects.select_for_update().filter(client_id=client_id).first()
        if server is None:
            ResourceServer.objects.create(environment=environment, name=f"CRM sandbox {environment.code}",
                                          client_id=client_id, secret_hash=hash_generated_secret(secret))
            record(event_type="resource_server.created", source=AuditEntry.Source.SYSTEM,
                   message=f"Resource server CRM sandbox created for {environment.code} "
                           f"(client ID {client_id})")
        elif server.environment_id != environment.pk or not check_password(secret, server.secret_hash):
            server.environment = environment
            server.secret_hash = hash_generated_secret(secret)
            server.save(update_fields=["environment", "secret_hash"])
            record(event_type="resource_server.secret_replaced", source=AuditEntry.Source.SYSTEM,
                   message=f"Resource server {client_id}: secret replaced to match the sandbox setting")

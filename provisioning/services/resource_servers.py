"""Resource servers: services (a tenant's CRM API) that introspect any token of one environment."""

import secrets
import uuid

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

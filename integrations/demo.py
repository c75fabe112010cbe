"""The ERP sync part of the demo data (``manage.py erp_demo``, run by ``load_demo``): the demo
tenant's administrator installs Acme ERP and an active connection to the reference ERP connector's
``demo`` company database syncs every minute once ``make run`` has started the connector."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from appstore.models import App, EndpointKind
from appstore.services.configuration_fields import endpoint, live_version
from provisioning.models import Authorization
from provisioning.services import authorizations as authorization_services
from tenants.models import Tenant

from .erp.services import connections
from .models import ErpConnection

APP_NAME = "Acme ERP"
ENVIRONMENT = "sod"
CONTEXT_IDENTIFIER = "Cust10001"
COMPANY_DATABASE = "demo"
CONNECTION_NAME = "Acme ERP demo company"
SYNC_INTERVAL = 60


@dataclass
class DemoConnection:
    connection: ErpConnection | None
    created: bool
    note: str


@transaction.atomic
def ensure_demo_connection(connector_url: str) -> DemoConnection:
    """The demo tenant's connection, when Acme ERP's live sod ERP sync endpoint is the reference
    connector at ``connector_url``."""
    app = App.objects.filter(name=APP_NAME).first()
    tenant = (Tenant.objects.select_related("environment")
              .filter(context_identifier=CONTEXT_IDENTIFIER, environment__code=ENVIRONMENT).first())
    admin = User.objects.filter(email=f"admin@{CONTEXT_IDENTIFIER.lower()}.example.com").first()
    if app is None or tenant is None or admin is None:
        return DemoConnection(None, False,
                              "The demo app, tenant or administrator is missing; no ERP connection.")
    live = live_version(app, tenant.environment)
    entry = endpoint(live, EndpointKind.ERP_SYNC) if live is not None else None
    if not entry or not entry.get("enabled") or entry.get("url") != connector_url:
        return DemoConnection(None, False, f"{APP_NAME}'s ERP sync endpoint in {ENVIRONMENT} is not the "
                                           f"reference ERP connector at {connector_url} (private addresses "
                                           "are refused here), so no demo ERP connection was made.")
    authorization = Authorization.objects.filter(app=app, tenant=tenant).first()
    if authorization is None:
        authorization = authorization_services.approve(app=app, tenant=tenant, user=admin,
                                                       consent_text=live.consent_text)
    existing = ErpConnection.objects.filter(authorization=authorization).order_by("id").first()
    if existing is not None:
        return DemoConnection(existing, False, "")
    connection = connections.register_connection(
        user=admin, authorization=authorization, name=CONNECTION_NAME,
        values={"CompanyDatabase": COMPANY_DATABASE}, sync_interval=SYNC_INTERVAL)
    return DemoConnection(connection, True, "")

"""An ERP sync world over real HTTP: the platform (login service and CRM sandbox) on pytest-django's
live server, the reference ERP connector in a thread, an app whose sod ERP sync endpoint points at
the connector (optionally through a fault-injecting proxy), and tenants that installed the app."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import timezone

from appstore.models import ConfigurationVersion, VersionState
from examples.erp_connector import store
from examples.erp_connector.server import serve_in_thread
from integrations.erp.services import connections
from integrations.models import ErpConnection
from provisioning.models import Authorization
from tests.provisioning.conftest import LoginApp, TenantPeople, register_app, tenant_with_people

from .proxy import Proxy, start_proxy, stop_proxy


@dataclass
class ErpWorld:
    login: LoginApp
    connector_url: str
    db_path: Path
    settings_path: Path
    tenants: dict[str, TenantPeople] = field(default_factory=dict)
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    proxies: list[Proxy] = field(default_factory=list)

    def point_endpoint(self, url: str, *, send_error_emails: bool = False) -> None:
        """The app's live sod ERP sync endpoint (a test fixture may set it directly)."""
        version = ConfigurationVersion.objects.get(
            app=self.login.app,
            environment__code="sod",
            state=VersionState.PUBLISHED,
            superseded_at__isnull=True,
        )
        endpoints = dict(version.endpoints or {})
        endpoints["erp_sync"] = {"url": url, "enabled": True, "send_error_emails": send_error_emails}
        ConfigurationVersion.objects.filter(pk=version.pk).update(endpoints=endpoints)

    def connector_proxy(self) -> Proxy:
        proxy = start_proxy(self.connector_url)
        self.proxies.append(proxy)
        self.point_endpoint(proxy.url)
        return proxy

    def crm_proxy(self, ctx: str, site_url: str) -> Proxy:
        """Route a tenant's CRM API calls through a proxy in front of the sandbox."""
        proxy = start_proxy(site_url)
        self.proxies.append(proxy)
        tenant = self.tenants[ctx].tenant
        tenant.webapi_url = f"{proxy.url}/sandbox/sod/{ctx}/api/"
        tenant.save(update_fields=["webapi_url"])
        return proxy

    def install(self, ctx: str) -> TenantPeople:
        people = tenant_with_people(ctx)
        self.tenants[ctx] = people
        self.authorizations[ctx] = Authorization.objects.create(
            app=self.login.app,
            tenant=people.tenant,
            approved_at=timezone.now(),
            system_user_token=f"{self.login.app.name}-{uuid.uuid4().hex[:10]}",
        )
        return people

    def connect(
        self, ctx: str, company_database: str = "demo", *, activate: bool = True, persons: bool = True
    ) -> ErpConnection:
        """A connection made the way a tenant admin makes one, auto-mapped, then activated."""
        people = self.tenants[ctx]
        authorization = self.authorizations[ctx]
        fields = connections.config_fields(user=people.admin.user, authorization=authorization)
        values = connections.clean_config(fields, {"CompanyDatabase": company_database})
        connection = connections.create_connection(
            user=people.admin.user,
            authorization=authorization,
            name=f"ERP {company_database}",
            values=values,
            fields=fields,
        )
        if not persons:
            connection.actor_mappings.filter(actor_type="Person").update(enabled=False)
        connection.actor_mappings.exclude(actor_type__in=("Customer", "Person")).update(enabled=False)
        if activate:
            connections.activate(user=people.admin.user, connection=connection)
        return connection

    def erp(self):
        return store.connect(self.db_path)


@pytest.fixture
def erp_world(live_server, settings, tmp_path, reference_data, sandbox_resource_servers) -> ErpWorld:
    settings.SITE_URL = live_server.url
    settings.CRM_SANDBOX_LOGIN_URL = live_server.url
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    settings.ALLOW_PRIVATE_PARTNER_URLS = True
    settings.INTEGRATION_RETRY_DELAYS = [0, 0]
    login = register_app(name="Acme ERP")
    settings_path = tmp_path / "connector.json"
    settings_path.write_text(
        json.dumps(
            {
                "issuer": f"{live_server.url}/sod",
                "client_id": login.client_id,
                "private_key_pem": login.private_pem,
            }
        )
    )
    db_path = tmp_path / "erp.sqlite3"
    store.seed(db_path, customers=3, persons_per_customer=2, company_database="demo")
    store.seed(db_path, customers=2, persons_per_customer=1, company_database="test")
    url, stop = serve_in_thread(settings_path, db_path)
    world = ErpWorld(login=login, connector_url=url, db_path=db_path, settings_path=settings_path)
    world.point_endpoint(url)
    yield world
    for proxy in world.proxies:
        stop_proxy(proxy)
    stop()

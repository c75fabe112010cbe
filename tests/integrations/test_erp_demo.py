"""The demo's ERP sync: load_demo points Acme ERP's sod ERP sync endpoint at the reference connector
and gives Cust10001 an active connection, which introduces itself and fetches its fields on its
first run."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from appstore.models import App
from appstore.services.configuration_fields import endpoint, live_version
from crm_sandbox.models import Contact
from integrations.erp.services import connections
from integrations.erp.services.target import config_values
from integrations.models import ErpConnection, ErpLink, RunState
from provisioning.models import Authorization
from tenants.models import Environment

from .test_erp_sync import sync


@pytest.fixture
def demo_settings(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path / "var"
    settings.SITE_URL = "http://127.0.0.1:8000"
    monkeypatch.delenv("PARTNER_PORT", raising=False)
    monkeypatch.delenv("ERP_PORT", raising=False)
    return settings


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_tenant_gets_an_active_connection_to_the_reference_connector(demo_settings):
    demo_settings.ALLOW_PRIVATE_PARTNER_URLS = True

    output = load()

    app = App.objects.get(name="Acme ERP")
    live = live_version(app, Environment.objects.get(code="sod"))
    assert endpoint(live, "erp_sync") == {"url": "http://127.0.0.1:8002", "enabled": True,
                                          "send_error_emails": False}
    authorization = Authorization.objects.get(app=app, tenant__context_identifier="Cust10001")
    connection = ErpConnection.objects.get(authorization=authorization)
    assert connection.is_active and connection.sync_interval == 60
    assert config_values(connection) == {"CompanyDatabase": "demo"}
    assert PeriodicTask.objects.get(name="ERP sync sod/Cust10001").enabled
    assert "syncs every 60 seconds" in output

    again = load()
    assert ErpConnection.objects.count() == 1
    assert "already present" in again


@pytest.mark.django_db
def test_no_demo_connection_where_private_endpoints_are_refused(demo_settings):
    demo_settings.ALLOW_PRIVATE_PARTNER_URLS = False

    output = load()

    assert not ErpConnection.objects.exists()
    assert "no demo ERP connection" in output


@pytest.mark.django_db(transaction=True)
def test_a_connection_registered_without_its_connector_sets_itself_up_on_the_first_run(erp_world):
    people = erp_world.install("Cust10001")
    proxy = erp_world.connector_proxy()
    connection = connections.register_connection(
        user=people.admin.user, authorization=erp_world.authorizations["Cust10001"], name="Registered",
        values={"CompanyDatabase": "test"})
    assert connection.is_active and not connection.actor_types

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    connection.refresh_from_db()
    assert {"Customer", "Person"} <= set(connection.actor_types)
    assert proxy.paths().count("/SaveConnection") == 1  # introduced after UNKNOWN_CONNECTION_ID
    # The 'test' company database: 2 customers with one person each (suppliers and partners too).
    assert ErpLink.objects.filter(connection=connection, actor_type="Customer").count() == 2
    assert ErpLink.objects.filter(connection=connection, actor_type="Person").count() == 2
    assert Contact.objects.count() >= 2


@pytest.mark.django_db
def test_only_an_administrator_registers_a_connection(erp_world):
    people = erp_world.install("Cust10001")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        connections.register_connection(user=people.member.user,
                                        authorization=erp_world.authorizations["Cust10001"],
                                        name="x", values={"CompanyDatabase": "demo"})
    assert not ErpConnection.objects.exists()

"""What a tenant administrator may not do to a connection, and why the page says so: deleting a
connection while a run writes through it, runs for a company whose CRM is suspended."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.exceptions import ValidationError

from crm_sandbox.models import Contact
from integrations.erp.engine import execute
from integrations.erp.services import connections, runs
from integrations.erp.services.connections import SetupRefused
from integrations.models import ErpConnection, ErpLink, IntegrationCall, RunKind, RunState, SyncRun
from tenants.models import TenantState

from .test_pages import CTX, Site, messages_of, page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(erp_world) -> Site:
    return Site(erp_world, CTX)


def running_run(connection: ErpConnection) -> SyncRun:
    """A run that holds the connection's lock, as a worker in the middle of a run does."""
    assert runs.acquire(connection) is not None
    return SyncRun.objects.create(connection=connection, tenant_id=connection.tenant_id,
                                  kind=RunKind.FORCE, state=RunState.RUNNING)


def test_a_connection_is_not_deleted_while_a_run_writes_through_it(site):
    connection = site.connect()
    running_run(connection)
    client = site.client()
    url = site.conn_url("delete", connection)

    confirm = page(client.get(url)).find("main")
    assert "Force sync is running on this connection" in confirm.find("p", role="alert").text

    refused = client.post(url, follow=True)
    assert refused.redirect_chain == [(site.conn_url("connection", connection), 302)]
    assert messages_of(refused) == [
        "ERP demo was not deleted: A run of this connection is in progress. Deactivate the connection, "
        "wait for the run to end, then delete it."
    ]
    assert ErpConnection.objects.filter(pk=connection.pk).exists()
    with site.world.erp() as erp:  # the connector was not told to forget it either
        assert erp.execute("SELECT count(*) FROM connections").fetchone()[0] == 1

    runs.release(connection, ErpConnection.objects.get(pk=connection.pk).lock_token)
    SyncRun.objects.filter(connection=connection).update(state=RunState.SUCCEEDED)
    assert client.post(url).status_code == 302
    assert not ErpConnection.objects.filter(pk=connection.pk).exists()


def test_a_queued_run_does_not_keep_a_connection_from_being_deleted(site):
    connection = site.connect()
    queued = SyncRun.objects.create(connection=connection, tenant_id=connection.tenant_id,
                                    kind=RunKind.MANUAL)
    confirm = page(site.client().get(site.conn_url("delete", connection))).find("main")
    assert confirm.find_all("p", role="alert") == []
    connections.delete_connection(user=site.people.admin.user, connection=connection)
    assert not SyncRun.objects.filter(pk=queued.pk).exists()
    assert execute(queued.pk) is None  # its task, when a worker gets to it, finds nothing to do


def test_nothing_syncs_for_a_company_whose_crm_is_suspended(site):
    connection = site.connect()
    tenant = connection.tenant
    tenant.state = TenantState.SUSPENDED
    tenant.save(update_fields=["state"])
    admin = site.people.admin.user

    with pytest.raises(SetupRefused, match="is suspended: nothing is synced until it runs again"):
        runs.request_run(user=admin, connection=connection, kind=RunKind.FORCE)
    with pytest.raises(SetupRefused, match="is suspended"):
        connections.activate(user=admin, connection=connection)
    response = site.client().post(site.conn_url("connection", connection),
                                  {"action": "run", "kind": RunKind.FORCE}, follow=True)
    assert messages_of(response)[0].startswith("No run was started: The CRM of ")
    assert "is suspended: nothing is synced until it runs again." in page(response).find("main").text
    assert not SyncRun.objects.filter(connection=connection).exists()

    # A run already on its way (the schedule's, or one queued before the suspension) stops early.
    run = runs.queue_run_now(connection=connection, kind=RunKind.FORCE)
    execute(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "is suspended: nothing was synced" in run.error
    assert not Contact.objects.exists() and not ErpLink.objects.exists()
    assert not run.calls.exists()  # not even the handshake

    tenant.state = TenantState.RUNNING
    tenant.save(update_fields=["state"])
    run = runs.request_run(user=admin, connection=connection, kind=RunKind.FORCE)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert Contact.objects.count() == 3


def test_resync_from_crm_says_what_it_overwrites_and_is_asked_for_from_its_own_form(site):
    connection = site.connect()
    client = site.client()
    url = site.conn_url("connection", connection)
    ErpLink.objects.bulk_create([ErpLink(connection=connection, actor_type="Customer", erp_key=f"K{i}",
                                         crm_entity="Contact", crm_id=100 + i) for i in range(3)])

    resync = page(client.get(url)).find("details")
    assert resync.find("summary").text == "Resync from CRM…"
    assert "of every linked CRM record (3 now)" in resync.find("p").text
    assert resync.find("p", id="resync-fields").text == (
        'No field is mapped "to ERP": a resync has nothing to send.')
    assert resync.find_all("button") == []
    from integrations.models import Direction
    from tests.integrations.test_erp_sync import remap
    remap(site.world, connection, "Customer", CreditLimit=("Number2", Direction.TO_ERP))
    resync = page(client.get(url)).find("details")
    assert resync.find("p", id="resync-fields").text == (
        "The ERP fields it writes: Customer Credit limit (from Number 2).")
    assert [b.attrs["value"] for b in resync.find_all("button")] == [RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS]
    confirm = resync.find("input", name="confirm")
    assert confirm.attrs["type"] == "checkbox" and "required" in confirm.attrs

    # The kind alone (a stale page, a hand-made post) starts nothing.
    refused = client.post(url, {"action": "run", "kind": RunKind.RESYNC}, follow=True)
    assert messages_of(refused)[0].startswith("No run was started: a resync is asked for from its own button")
    assert not SyncRun.objects.exists()

    client.post(url, {"action": "run", "kind": RunKind.RESYNC_NO_BLANKS, "confirm": "yes"})
    assert SyncRun.objects.get().kind == RunKind.RESYNC_NO_BLANKS


# --- The configuration: which ERP data a connection reaches -------------------------------------------


def configure(site, connection, links: str | None = None, **values):
    from .test_pages import config_post

    data = config_post(name=None, **values)
    if links is not None:
        data["links"] = links
    return site.client().post(site.conn_url("configure", connection), data, follow=True)


def test_a_second_connection_to_the_same_erp_data_is_refused(site):
    from .test_pages import config_post

    first = site.connect()
    client = site.client()
    response = client.post(site.url("new"), config_post(name="Again", ApiKey="other-password"))
    assert response.status_code == 200
    assert ("The connection ERP demo already reaches the ERP with this configuration; a second one would "
            "create every record in the CRM again. Change ERP demo instead."
            ) in page(response).find("main").text
    assert list(ErpConnection.objects.all()) == [first]
    tested = client.post(site.url("new"), config_post("test", name="Again"))  # Test says so too
    assert "already reaches the ERP with this configuration" in page(tested).find("main").text
    assert "Test passed" not in page(tested).find("main").text
    # Another company database is other ERP data.
    assert client.post(site.url("new"), config_post(name="Test", CompanyDatabase="test")).status_code == 302
    second = ErpConnection.objects.get(name="Test")
    # ... and editing it into the first one's configuration is refused the same way.
    refused = configure(site, second, CompanyDatabase="demo")
    assert "already reaches the ERP with this configuration" in page(refused).find("main").text


def test_a_linked_connection_keeps_the_erp_data_it_reaches(site):
    from integrations.erp.services.target import config_values

    connection = site.connect(persons=False)
    # Unlinked, a connection may still be pointed elsewhere.
    assert configure(site, connection, CompanyDatabase="test").redirect_chain[-1][1] == 302
    assert configure(site, connection, CompanyDatabase="demo").redirect_chain[-1][1] == 302
    connection.refresh_from_db()
    runs.request_run(user=site.people.admin.user, connection=connection, kind=RunKind.FORCE)
    links = {link.erp_key: link.crm_id for link in ErpLink.objects.filter(connection=connection)}
    assert len(links) == 3

    refused = page(configure(site, connection, CompanyDatabase="test")).find("main")
    expected = ("Company database says which ERP data this connection reaches, and 3 ERP records are linked "
                "to CRM records through it: it stays demo. For other ERP data, make a new connection.")
    summary = [d for d in refused.find_all("div") if "error-summary" in d.classes()]
    assert expected in summary[0].text
    assert "data-focus-on-load" in summary[0].attrs  # read first, and the keyboard starts there
    field = refused.find("div", data_field="cfg_CompanyDatabase")  # the field itself is marked
    assert "has-error" in field.classes() and expected in field.text
    connection.refresh_from_db()
    assert config_values(connection)["CompanyDatabase"] == "demo"  # nothing saved
    with site.world.erp() as erp:
        from examples.erp_connector import store
        assert store.get_connection(erp, str(connection.connection_id))["config"]["CompanyDatabase"] == "demo"

    # A password or an option is no other ERP data.
    saved = configure(site, connection, CompanyDatabase=" demo ", ApiKey="new-secret", Region="europe")
    assert saved.redirect_chain == [(site.conn_url("connection", connection), 302)]
    assert {link.erp_key: link.crm_id for link in ErpLink.objects.filter(connection=connection)} == links
    connection.refresh_from_db()
    assert config_values(connection)["ApiKey"] == "new-secret"


def with_suppliers(site) -> ErpConnection:
    """A connection whose configuration offers suppliers, synced with them on."""
    connection = site.connect(persons=False)
    assert messages_of(configure(site, connection, IncludeSuppliers="on")) == [
        "The configuration of ERP demo was saved."]
    connection.refresh_from_db()
    assert "Supplier" in connection.actor_types
    assert connection.actor_mappings.filter(actor_type="Supplier").update(enabled=True) == 1
    return connection


def test_a_configuration_that_no_longer_offers_an_actor_type_turns_it_off_and_says_so(site):
    connection = with_suppliers(site)
    response = configure(site, connection, IncludeSuppliers=None)
    assert messages_of(response)[-1] == ("The connector no longer offers Supplier with this configuration; "
                                         "it was turned off in the field mapping.")
    connection.refresh_from_db()
    assert "Supplier" not in connection.actor_types
    assert not connection.actor_mappings.get(actor_type="Supplier").enabled
    shown = page(site.client().get(site.conn_url("mapping", connection)))
    supplier = shown.find("section", id="actor-Supplier")
    assert "No longer offered" in supplier.find("h2").text
    assert "disabled" in supplier.find("input", name="enabled-Supplier").attrs  # nothing to tick on
    assert ("The connector no longer offers Supplier on this connection, so it is not synced. Its fields are "
            "kept here in case it comes back.") in supplier.text
    assert shown.find("section", id="actor-Customer").find_all("p", class_="message") == []

    # Turning it on again is refused, naming it.
    from integrations.erp.services.mapping import save_mapping
    with pytest.raises(ValidationError) as refused:
        save_mapping(user=site.people.admin.user, connection=connection, enabled={"Supplier": True}, rows=[])
    assert refused.value.message_dict == {
        "Supplier.enabled": ["Supplier is no longer offered by the connector; it cannot be turned on."]}

    back = configure(site, connection, IncludeSuppliers="on")
    assert messages_of(back)[-1] == (
        "The connector now offers Supplier: turn it on in the field mapping to sync it.")
    connection.refresh_from_db()
    save_mapping(user=site.people.admin.user, connection=connection, enabled={"Supplier": True}, rows=[])
    assert connection.actor_mappings.get(actor_type="Supplier").enabled


def test_a_run_skips_an_actor_type_the_connector_stopped_offering_and_says_why(site):
    connection = with_suppliers(site)
    from integrations.erp.services.target import config_values, set_config_values
    values = {**config_values(connection), "IncludeSuppliers": "[I:0]"}
    set_config_values(connection, values)
    connection.save(update_fields=["config_encrypted"])
    with site.world.erp() as erp:  # the connector's copy, as a change made at the connector would
        from examples.erp_connector import store
        with store.transaction(erp):
            erp.execute("UPDATE connections SET config = ? WHERE connection_id = ?",
                        (json.dumps(values), str(connection.connection_id)))

    run = runs.request_run(user=site.people.admin.user, connection=connection, kind=RunKind.FORCE)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.error == ("Supplier is no longer offered by the connector and was not synced; turn it off in "
                         "the field mapping.")
    assert Contact.objects.count() == 3  # the customers were
    connection.refresh_from_db()
    assert "Supplier" not in connection.actor_types


def test_an_active_connections_mapping_cannot_lose_what_it_needs_to_sync(site):
    from integrations.erp.services.mapping import MappingRow, save_mapping
    from integrations.models import Direction, FieldMapping

    connection = site.connect()
    assert connection.is_active
    with pytest.raises(ValidationError) as refused:
        save_mapping(user=site.people.admin.user, connection=connection, enabled={},
                     rows=[MappingRow("Customer", "Name", "Name", Direction.OFF)])
    assert refused.value.message_dict == {"Customer.Name": [
        "The mandatory field Name needs a direction. The connection is active: deactivate it "
        "first to save such a mapping."]}
    name = FieldMapping.objects.get(actor_mapping__connection=connection,
                                    actor_mapping__actor_type="Customer", erp_field="Name")
    assert name.direction == Direction.TO_CRM
    with pytest.raises(ValidationError) as refused:
        save_mapping(user=site.people.admin.user, connection=connection,
                     enabled={"Customer": False, "Person": True}, rows=[])
    assert "Persons sync under their company" in refused.value.message_dict["Person.enabled"][0]
    assert connection.actor_mappings.get(actor_type="Customer").enabled

    connections.deactivate(user=site.people.admin.user, connection=connection)
    save_mapping(user=site.people.admin.user, connection=connection, enabled={},
                 rows=[MappingRow("Customer", "Name", "Name", Direction.OFF)])
    with pytest.raises(SetupRefused, match="the mandatory field Name needs a direction"):
        connections.activate(user=site.people.admin.user, connection=connection)


def test_a_connector_that_does_not_answer_keeps_a_setup_page_waiting_once_and_briefly(site, settings):
    settings.INTEGRATION_SETUP_TIMEOUT = 0.5
    proxy = site.world.connector_proxy()
    answer = threading.Event()

    def hang(seen, forward):
        answer.wait(30)  # released when the test ends
        return forward()[:2]

    proxy.when(lambda s: s.path.endswith("/GetConfigData"), hang)
    try:
        shown = page(site.client().get(site.url("new"))).find("main")
    finally:
        answer.set()
    assert "Nothing can be set up for Acme ERP now." in shown.text
    assert "No answer within 0.5 seconds" in shown.text
    # One attempt: a run retries transient failures, a page someone waits on does not.
    assert IntegrationCall.objects.filter(operation="GetConfigData").count() == 1
    assert [p for p in proxy.paths() if p.endswith("/GetConfigData")] == ["/GetConfigData"]


def test_each_connection_of_a_company_has_its_own_rank(site):
    first = site.connect()
    second = site.connect("test")
    assert (first.rank, second.rank) == (1, 2)
    refused = site.client().post(site.conn_url("connection", second),
                                 {"action": "schedule", "sync_interval": "60", "rank": "1"})
    assert refused.status_code == 200
    assert ("ERP demo has rank 1: give each connection of the company its own rank, so the order they run "
            "in is clear.") in page(refused).find("main").text
    second.refresh_from_db()
    assert second.rank == 2
    # A new connection comes after the last one, whatever was deleted in between.
    connections.set_schedule(user=site.people.admin.user, connection=second, sync_interval=60, rank=7)
    connections.delete_connection(user=site.people.admin.user, connection=first)
    assert site.connect("demo").rank == 8


def test_two_erp_fields_on_one_crm_field_are_both_marked_by_the_crm_fields_label(site):
    from integrations.erp.services.mapping import MappingRow, save_mapping
    from integrations.models import Direction

    connection = site.connect(activate=False)
    with pytest.raises(ValidationError) as refused:
        save_mapping(user=site.people.admin.user, connection=connection, enabled={}, rows=[
            MappingRow("Customer", "CreditLimit", "Number2", Direction.TO_ERP),
            MappingRow("Customer", "Department", "Number2", Direction.TO_CRM),
        ])
    assert refused.value.message_dict == {
        "Customer.CreditLimit": ["The CRM field Number 2 is also mapped from the ERP field Department; "
                                 "a CRM field takes one ERP field."],
        "Customer.Department": ["The CRM field Number 2 is already mapped from the ERP field Credit limit; "
                                "a CRM field takes one ERP field."],
    }


def test_a_connection_of_an_uninstalled_app_waits_and_its_page_says_why(site):
    from integrations.erp.services.runs import due_connections
    from provisioning.models import AuthorizationStatus

    connection = site.connect()
    assert due_connections(connection.tenant_id) == [connection]
    site.authorization.status = AuthorizationStatus.REVOKED
    site.authorization.save(update_fields=["status"])

    assert due_connections(connection.tenant_id) == []  # no failed run every interval
    shown = page(site.client().get(site.conn_url("connection", connection))).find("main")
    assert ("Acme ERP is not authorized for " in shown.text
            and "now (it was uninstalled): nothing is synced until it is." in shown.text)
    with pytest.raises(SetupRefused, match="Acme ERP is not authorized for this company"):
        runs.request_run(user=site.people.admin.user, connection=connection, kind=RunKind.FORCE)


def test_no_run_is_started_with_a_mapping_activation_would_refuse(site):
    from integrations.erp.services.mapping import MappingRow, save_mapping
    from integrations.models import Direction

    connection = site.connect(activate=False)
    save_mapping(user=site.people.admin.user, connection=connection, enabled={},
                 rows=[MappingRow("Customer", "Name", "Name", Direction.OFF)])
    with pytest.raises(SetupRefused, match="Customer: the mandatory field Name needs a direction."):
        runs.request_run(user=site.people.admin.user, connection=connection, kind=RunKind.FORCE)
    assert not SyncRun.objects.exists()

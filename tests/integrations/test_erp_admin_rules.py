"""What a tenant administrator may not do to a connection, and why the page says so: deleting a
connection while a run writes through it, runs for a company whose CRM is suspended."""

from __future__ import annotations

import pytest

from crm_sandbox.models import Contact
from integrations.erp.engine import execute
from integrations.erp.services import connections, runs
from integrations.erp.services.connections import SetupRefused
from integrations.models import ErpConnection, ErpLink, RunKind, RunState, SyncRun
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
    assert [b.attrs["value"] for b in resync.find_all("button")] == [RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS]

    # The kind alone (a stale page, a hand-made post) starts nothing.
    refused = client.post(url, {"action": "run", "kind": RunKind.RESYNC}, follow=True)
    assert messages_of(refused)[0].startswith("No run was started: a resync is asked for from its own button")
    assert not SyncRun.objects.exists()

    client.post(url, {"action": "run", "kind": RunKind.RESYNC_NO_BLANKS, "confirm": "yes"})
    assert SyncRun.objects.get().kind == RunKind.RESYNC_NO_BLANKS

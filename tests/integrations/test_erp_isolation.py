"""Two tenants with connections to the same app: each sees only its own records, links, log and
runs, and the connector is only ever told connection GUIDs."""

import json
import uuid

import pytest

from crm_sandbox.models import Contact
from integrations import selectors
from integrations.models import ErpLink, RunState, SyncLogEntry, SyncRun

from .test_erp_sync import sync

pytestmark = pytest.mark.django_db(transaction=True)


def erp_names(world, company_db: str) -> set[str]:
    with world.erp() as erp:
        rows = erp.execute(
            "SELECT name FROM companies WHERE company_db=? AND kind='Customer'", (company_db,)
        )
        return {row[0] for row in rows}


def test_two_tenants_of_one_app_never_see_each_others_data(erp_world):
    first, second = erp_world.install("Cust10001"), erp_world.install("Cust20002")
    proxy = erp_world.connector_proxy()
    one = erp_world.connect("Cust10001", "demo", persons=False)
    two = erp_world.connect("Cust20002", "test", persons=False)

    run_one = sync(erp_world, one, ctx="Cust10001")
    run_two = sync(erp_world, two, ctx="Cust20002")

    assert (run_one.state, run_two.state) == (RunState.SUCCEEDED, RunState.SUCCEEDED)
    # Each tenant's CRM holds its own ERP company database's customers, and nothing else.
    names_one, names_two = (
        set(Contact.objects.filter(tenant__context_identifier=ctx).values_list("name", flat=True))
        for ctx in ("Cust10001", "Cust20002")
    )
    assert names_one == erp_names(erp_world, "demo")
    assert names_two == erp_names(erp_world, "test")
    assert not names_one & names_two
    # Links point into the connection's own tenant only.
    for connection, ctx in ((one, "Cust10001"), (two, "Cust20002")):
        linked = set(ErpLink.objects.filter(connection=connection).values_list("crm_id", flat=True))
        own = set(Contact.objects.filter(tenant__context_identifier=ctx).values_list("pk", flat=True))
        assert linked == own
    # Logs and runs belong to their run's tenant.
    assert set(SyncLogEntry.objects.filter(run=run_one).values_list("connection_id", flat=True)) == {one.pk}
    assert SyncRun.objects.get(pk=run_two.pk).tenant_id == second.tenant.pk
    # Reads scoped by the other tenant's authorization find nothing.
    other = erp_world.authorizations["Cust20002"]
    assert selectors.app_connection(other, one.connection_id) is None
    assert selectors.app_connection(erp_world.authorizations["Cust10001"], two.connection_id) is None
    assert list(selectors.app_connections(other)) == [two]
    assert first.tenant.pk != second.tenant.pk

    # What the connector was sent: connection GUIDs, never a tenant's identity in the data calls.
    data_calls = [s for s in proxy.seen if s.path != "/Authenticate"]
    assert data_calls
    sent_ids = set()
    for seen in data_calls:
        body = json.loads(seen.body or b"{}")
        if "ConnectionId" in body:
            sent_ids.add(str(uuid.UUID(body["ConnectionId"])))
        text = seen.body.decode()
        for tenant in (first.tenant, second.tenant):
            assert tenant.context_identifier not in text
            assert tenant.company_name not in text
    assert sent_ids == {str(one.connection_id), str(two.connection_id)}

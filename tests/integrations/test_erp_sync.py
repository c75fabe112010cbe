"""ERP sync end to end over real HTTP: the reference ERP connector, the engine, the CRM sandbox
authenticating the integration service through introspection."""

import pytest

from crm_sandbox.models import Contact, Person
from examples.erp_connector import store
from integrations.erp.services import runs
from integrations.models import Direction, ErpLink, LogKind, RunKind, RunState, SyncLogEntry, SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def sync(world, connection, kind=RunKind.FORCE, ctx="Cust10001") -> SyncRun:
    run = runs.request_run(user=world.tenants[ctx].admin.user, connection=connection, kind=kind)
    run.refresh_from_db()
    return run


def test_erp_customers_and_their_persons_appear_in_the_crm(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001")
    run = sync(erp_world, connection)
    assert run.state == RunState.SUCCEEDED, run.error
    assert (run.total, run.processed, run.created, run.failed_records) == (9, 9, 9, 0)
    names = set(Contact.objects.values_list("name", flat=True))
    with erp_world.erp() as erp:
        erp_names = {
            row[0]
            for row in erp.execute("SELECT name FROM companies WHERE company_db='demo' AND kind='Customer'")
        }
    assert names == erp_names
    person = Person.objects.select_related("contact").first()
    assert person.contact is not None
    assert ErpLink.objects.filter(connection=connection, crm_id__isnull=False).count() == 9
    assert SyncLogEntry.objects.filter(run=run, kind=LogKind.CREATED).count() == 9


def remap(world, connection, actor_type, **directions):
    """Set fields' CRM field and direction through the mapping service: FieldKey=(crm_field, direction)."""
    from integrations.erp.services.mapping import MappingRow, save_mapping

    rows = [MappingRow(actor_type, key, crm, direction) for key, (crm, direction) in directions.items()]
    save_mapping(user=world.tenants["Cust10001"].admin.user, connection=connection, enabled={}, rows=rows)


def crm_change(contact: Contact, **values) -> None:
    from crm_sandbox.entities import CONTACT
    from crm_sandbox.services import update_row

    update_row(tenant=contact.tenant, entity=CONTACT, row=contact, values=values)


def test_a_crm_change_to_a_field_mapped_to_erp_reaches_the_erp_encoded(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    remap(
        erp_world,
        connection,
        "Customer",
        CreditLimit=("Number2", Direction.TO_ERP),
        Department=("Department", Direction.TO_ERP),
    )
    proxy = erp_world.connector_proxy()
    assert sync(erp_world, connection).state == RunState.SUCCEEDED
    link = ErpLink.objects.filter(connection=connection, actor_type="Customer").order_by("erp_key").first()
    contact = Contact.objects.get(pk=link.crm_id)
    crm_change(contact, number2="125000.5", department="Procurement")

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.pushed == 1
    saved = [s for s in proxy.seen if s.path == "/SaveActors"]
    assert len(saved) == 1
    actor = __import__("json").loads(saved[0].body)["Actors"][0]
    assert actor["ErpKey"] == link.erp_key
    assert actor["FieldValues"] == {"CreditLimit": "[F:125000.5]", "Department": "Procurement"}
    with erp_world.erp() as erp:
        limit, department = erp.execute(
            "SELECT credit_limit, department FROM companies WHERE erp_key=? AND company_db='demo'",
            (link.erp_key,),
        ).fetchone()
    assert (limit, department) == (125000.5, "Procurement")
    logged = SyncLogEntry.objects.filter(run=run, kind=LogKind.CHANGE, direction=Direction.TO_ERP)
    assert {(e.field, e.new_value) for e in logged} == {
        ("CreditLimit", "125000.5"),
        ("Department", "Procurement"),
    }
    # The next run sends nothing: the ERP has what the CRM has.
    assert sync(erp_world, connection).pushed == 0


def test_the_same_actor_returned_twice_makes_one_link_and_one_log_entry(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001")
    first = sync(erp_world, connection)
    second = sync(erp_world, connection)  # "on or after" returns the newest actors again
    assert second.state == RunState.SUCCEEDED
    assert second.total > 0 and second.created == second.updated == 0
    assert ErpLink.objects.filter(connection=connection).count() == 9
    assert Contact.objects.count() == 3 and Person.objects.count() == 6
    assert SyncLogEntry.objects.filter(run=second).count() == 0
    assert SyncLogEntry.objects.filter(run=first, kind=LogKind.CREATED).count() == 9


def test_an_erp_change_updates_the_crm_and_logs_old_and_new(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    sync(erp_world, connection)
    link = ErpLink.objects.filter(connection=connection).order_by("erp_key").first()
    old = Contact.objects.get(pk=link.crm_id).name
    with erp_world.erp() as erp:
        erp.execute(
            "UPDATE companies SET name='Fjordkraft Renamed AS', last_modified='2099-01-01T00:00:00.000000Z'"
            " WHERE erp_key=? AND company_db='demo'",
            (link.erp_key,),
        )
        erp.commit()
    run = sync(erp_world, connection)
    assert run.updated == 1
    assert Contact.objects.get(pk=link.crm_id).name == "Fjordkraft Renamed AS"
    entry = SyncLogEntry.objects.get(run=run, kind=LogKind.CHANGE)
    assert (entry.field, entry.old_value, entry.new_value, entry.direction) == (
        "Name",
        old,
        "Fjordkraft Renamed AS",
        Direction.TO_CRM,
    )


def test_list_values_are_translated_through_the_list_mapping(erp_world):
    from integrations.models import ListItemMapping

    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    mapped = ListItemMapping.objects.filter(connection=connection, erp_list="Countries")
    assert mapped.filter(crm_id__isnull=False).exists()  # paired by name when the connection was made
    # The admin pairs one ERP item with another CRM country than its name says.
    with erp_world.erp() as erp:
        key = erp.execute(
            "SELECT country FROM companies WHERE company_db='demo' ORDER BY erp_key"
        ).fetchone()[0]
    other = mapped.exclude(erp_key=key).exclude(crm_id__isnull=True).first()
    mapped.filter(erp_key=key).update(crm_id=other.crm_id, crm_name=other.crm_name)
    sync(erp_world, connection)
    link = ErpLink.objects.filter(connection=connection).order_by("erp_key").first()
    contact = Contact.objects.select_related("country").get(pk=link.crm_id)
    assert contact.country.item_id == other.crm_id


def test_a_record_skipped_for_an_unpaired_list_item_syncs_once_the_admin_pairs_it(erp_world):
    from integrations.erp.services.mapping import save_list_mapping
    from integrations.models import ListItemMapping

    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    with erp_world.erp() as erp:
        key, country = erp.execute(
            "SELECT erp_key, country FROM companies WHERE company_db='demo' AND kind='Customer' "
            "ORDER BY erp_key"
        ).fetchone()
    item = ListItemMapping.objects.get(connection=connection, erp_list="Countries", erp_key=country)
    crm_id = item.crm_id
    item.crm_id = None
    item.save(update_fields=["crm_id"])
    unpaired = ErpLink.objects.filter(connection=connection, erp_key=key)

    first = sync(erp_world, connection)

    assert first.failed_records >= 1
    assert not unpaired.exists()
    problem = SyncLogEntry.objects.filter(run=first, kind=LogKind.PROBLEM, erp_key=key).get()
    assert "not mapped" in problem.message
    connection.refresh_from_db()
    assert key in connection.erp_retry["Customer"]

    save_list_mapping(user=erp_world.tenants["Cust10001"].admin.user, connection=connection,
                      choices={item.pk: crm_id}, allowed={item.crm_list: {crm_id: "Sweden"}})
    second = sync(erp_world, connection)  # the ERP record did not change, yet it is read again

    assert second.state == RunState.SUCCEEDED, second.error
    assert second.failed_records == 0
    assert unpaired.get().crm_id is not None
    item.refresh_from_db()
    assert (item.crm_id, item.crm_name) == (crm_id, "Sweden")
    connection.refresh_from_db()
    assert connection.erp_retry == {}


def test_resync_from_crm_sends_every_linked_record_and_the_no_blanks_variant_keeps_erp_values(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    remap(
        erp_world,
        connection,
        "Customer",
        CreditLimit=("Number2", Direction.TO_ERP),
        Department=("Department", Direction.TO_ERP),
    )
    assert sync(erp_world, connection).state == RunState.SUCCEEDED
    with erp_world.erp() as erp, store.transaction(erp):
        erp.execute("UPDATE companies SET department='Sales', credit_limit=10 WHERE company_db='demo'")
    first = ErpLink.objects.filter(connection=connection, actor_type="Customer").order_by("erp_key").first()
    Contact.objects.filter(pk=first.crm_id).update(number2="500")  # not a change the CRM logs

    def erp_values():
        with erp_world.erp() as erp:
            return dict(
                (row[0], (row[1], row[2]))
                for row in erp.execute(
                    "SELECT erp_key, department, credit_limit FROM companies "
                    "WHERE company_db='demo' AND kind='Customer'"
                )
            )

    kept = sync(erp_world, connection, kind=RunKind.RESYNC_NO_BLANKS)

    assert kept.state == RunState.SUCCEEDED, kept.error
    assert kept.total == kept.processed == 3
    values = erp_values()
    assert values.pop(first.erp_key) == ("Sales", 500)  # the CRM's value, not a blank
    assert set(values.values()) == {("Sales", 10)}  # blank in the CRM: the ERP keeps its own

    everything = sync(erp_world, connection, kind=RunKind.RESYNC)

    assert everything.state == RunState.SUCCEEDED, everything.error
    values = erp_values()
    assert values.pop(first.erp_key) == (None, 500)
    assert set(values.values()) == {(None, None)}  # blanks too: the ERP now has what the CRM has


def test_a_field_mapped_to_erp_after_the_first_sync_is_logged_from_the_erps_own_value(erp_world):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    assert sync(erp_world, connection).state == RunState.SUCCEEDED
    remap(erp_world, connection, "Customer", CreditLimit=("Number2", Direction.TO_ERP))
    with erp_world.erp() as erp:
        limits = dict(erp.execute("SELECT erp_key, credit_limit FROM companies "
                                  "WHERE company_db='demo' AND kind='Customer'").fetchall())
    links = ErpLink.objects.filter(connection=connection, actor_type="Customer").order_by("erp_key")
    same, other, blank = links
    assert limits[same.erp_key] and limits[other.erp_key] and limits[blank.erp_key]
    Contact.objects.filter(pk=same.crm_id).update(number2=str(limits[same.erp_key]))
    Contact.objects.filter(pk=other.crm_id).update(number2="777")

    run = sync(erp_world, connection, kind=RunKind.RESYNC)

    assert run.state == RunState.SUCCEEDED, run.error
    logged = {(e.erp_key, e.field, e.old_value, e.new_value)
              for e in SyncLogEntry.objects.filter(run=run, kind=LogKind.CHANGE)}
    assert logged == {
        (other.erp_key, "CreditLimit", f"{limits[other.erp_key]:g}", "777"),
        (blank.erp_key, "CreditLimit", f"{limits[blank.erp_key]:g}", ""),
    }  # what the ERP had, read from it; the record whose value the ERP already has is not sent
    assert run.pushed == 2
    with erp_world.erp() as erp:
        now = dict(erp.execute("SELECT erp_key, credit_limit FROM companies "
                               "WHERE company_db='demo' AND kind='Customer'").fetchall())
    assert now == {same.erp_key: limits[same.erp_key], other.erp_key: 777, blank.erp_key: None}

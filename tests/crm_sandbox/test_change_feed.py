"""The change feed (SPEC §9): every row change once, in sequence order, paged, per tenant."""

import pytest

from crm_sandbox.models import ChangeRecord

pytestmark = pytest.mark.django_db


def test_changes_come_in_sequence_order_with_their_actions(api_a):
    contact = api_a.create("Contact", Name="Feed AS")
    person = api_a.create("Person", Lastname="Lie", Contact={"ContactId": contact["ContactId"]})
    api_a.put(f"/Contact/{contact['ContactId']}", {"Department": "Oslo"})
    api_a.delete(f"/Person/{person['PersonId']}")
    body = api_a.get("/ChangeFeed").json()
    changes = [(c["Table"], c["RowId"], c["Action"]) for c in body["value"]]
    assert changes == [("Contact", contact["ContactId"], "insert"), ("Person", person["PersonId"], "insert"),
                       ("Contact", contact["ContactId"], "update"), ("Person", person["PersonId"], "delete")]
    sequences = [c["Sequence"] for c in body["value"]]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    assert body["LastSequence"] == sequences[-1] and "odata.nextLink" not in body
    assert all(c["Timestamp"].endswith("Z") for c in body["value"])


def test_since_and_table(api_a):
    first = api_a.create("Contact", Name="One")
    api_a.create("Person", Lastname="Two")
    api_a.create("Contact", Name="Three")
    since = ChangeRecord.objects.get(row_id=first["ContactId"], table="Contact").sequence
    after = api_a.get("/ChangeFeed", {"since": since}).json()
    assert [c["Table"] for c in after["value"]] == ["Person", "Contact"]
    contacts_only = api_a.get("/ChangeFeed", {"since": since, "table": "contact"}).json()
    assert [(c["Table"], c["Action"]) for c in contacts_only["value"]] == [("Contact", "insert")]
    nothing = api_a.get("/ChangeFeed", {"since": contacts_only["LastSequence"], "table": "Contact"}).json()
    assert nothing["value"] == [] and nothing["LastSequence"] == contacts_only["LastSequence"]


def test_paging_with_next_link_reads_every_change_once(api_a):
    for n in range(12):
        api_a.create("Product", Name=f"Product {n}")
    seen, url = [], "/ChangeFeed?$top=5&table=Product"
    pages = 0
    while url:
        path, _, query = url.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&"))
        body = api_a.get(path.split("/api/v1", 1)[-1], params).json()
        seen += [c["Sequence"] for c in body["value"]]
        url = body.get("odata.nextLink")
        pages += 1
        if url:
            assert url.startswith("http://testserver/sandbox/sod/Cust10001/api/v1/ChangeFeed?")
            assert f"since={body['LastSequence']}" in url
    assert pages == 3 and len(seen) == 12 and seen == sorted(set(seen))


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "abc"}, "since"), ({"since": "-4"}, "since"), ({"table": "Appointment"}, "unknown table"),
    ({"$top": "0"}, "$top"),
])
def test_bad_since_or_table_is_400(api_a, params, message):
    response = api_a.get("/ChangeFeed", params)
    assert response.status_code == 400 and message in response.json()["Error"]

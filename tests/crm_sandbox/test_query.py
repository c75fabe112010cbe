"""The list endpoints' query subset: $filter operators, $select, $orderBy, $top/$skip, nextLink
paging, and 400 answers that name what is wrong."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from crm_sandbox.models import Contact, SandboxTenant

from .conftest import BASE_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(api_a):
    rows = {}
    for name, department, number, country in [("Aker Bygg AS", "Oslo", "10001", 1),
                                              ("Berg Data AB", "", "10002", 2),
                                              ("Bergen Energi AS", "Sales", "10003", 1),
                                              ("Dahl & Dahl ApS", "", "10004", 3),
                                              ("aker marine AS", "", "10005", 1)]:
        rows[name] = api_a.create("Contact", Name=name, Department=department, Number1=number,
                                  Country={"CountryId": country})
    return rows


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["Name"] for row in response.json()["value"]]


def test_without_parameters_rows_come_by_id_with_every_field(api_a, contacts):
    body = api_a.get("/Contact").json()
    assert [row["ContactId"] for row in body["value"]] == sorted(c["ContactId"] for c in contacts.values())
    assert body["value"][0] == contacts["Aker Bygg AS"]
    assert "odata.nextLink" not in body


@pytest.mark.parametrize(("expression", "expected"), [
    ("Name eq 'Berg Data AB'", ["Berg Data AB"]),
    ("name EQ 'Berg Data AB'", ["Berg Data AB"]),
    ("Name ne 'Berg Data AB'", ["Aker Bygg AS", "Bergen Energi AS", "Dahl & Dahl ApS", "aker marine AS"]),
    ("Name begins 'Berg'", ["Berg Data AB", "Bergen Energi AS"]),
    ("Name begins 'aker'", ["Aker Bygg AS", "aker marine AS"]),
    ("Name contains 'dahl'", ["Dahl & Dahl ApS"]),
    ("Name contains 'AS' and Department eq 'Sales'", ["Bergen Energi AS"]),
    ("Number1 eq '10004'", ["Dahl & Dahl ApS"]),
    ("Department eq ''", ["Berg Data AB", "Dahl & Dahl ApS", "aker marine AS"]),
    ("countryId eq 1 and Name begins 'B'", ["Bergen Energi AS"]),
    ("Name eq 'O''Brien'", []),
])
def test_filter_operators_on_text(api_a, contacts, expression, expected):
    assert names(api_a.get("/Contact", {"$filter": expression})) == expected


def test_id_comparisons(api_a, contacts):
    ids = sorted(c["ContactId"] for c in contacts.values())
    third = ids[2]

    def found(expression: str) -> list[int]:
        return [r["ContactId"] for r in api_a.get("/Contact", {"$filter": expression}).json()["value"]]

    assert found(f"ContactId gt {third}") == ids[3:]
    assert found(f"contactid ge {third}") == ids[2:]
    assert found(f"ContactId eq {third}") == [third]
    assert found(f"ContactId le {third}") == ids[:3]
    both = found(f"ContactId gt {ids[0]} and ContactId lt {ids[2]}")
    assert both == [ids[1]]


def test_updated_after_time_is_strictly_after(api_a, contacts):
    stamps = {"Aker Bygg AS": "2026-12-04T09:00:00Z", "Berg Data AB": "2026-12-04T10:00:00Z",
              "Bergen Energi AS": "2026-12-04T10:00:01Z"}
    for name, contact in contacts.items():
        at = stamps.get(name, "2026-01-01T00:00:00Z")
        Contact.objects.filter(pk=contact["ContactId"]).update(
            updated_date=datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC))
    after = api_a.get("/Contact", {"$filter": "updated afterTime '2026-12-04T10:00:00Z'"})
    assert names(after) == ["Bergen Energi AS"]
    with_offset = api_a.get("/Contact", {"$filter": "updated afterTime '2026-12-04T12:00:00+02:00'"})
    assert names(with_offset) == ["Bergen Energi AS"]


def test_select_returns_only_the_named_fields_in_their_own_spelling(api_a, contacts):
    rows = api_a.get("/Contact", {"$select": "name, contactid,Country", "$top": "1"}).json()["value"]
    assert rows == [{"Name": "Aker Bygg AS", "ContactId": contacts["Aker Bygg AS"]["ContactId"],
                     "Country": {"CountryId": 1, "Name": "Norway", "TwoLetterISOCountry": "NO"}}]


def test_order_by_several_fields_both_directions(api_a, contacts):
    assert names(api_a.get("/Contact", {"$orderBy": "Name desc"})) == [
        "aker marine AS", "Dahl & Dahl ApS", "Bergen Energi AS", "Berg Data AB", "Aker Bygg AS"]
    assert names(api_a.get("/Contact", {"$orderby": "Department desc, Name asc"})) == [
        "Bergen Energi AS", "Aker Bygg AS", "Berg Data AB", "Dahl & Dahl ApS", "aker marine AS"]


def test_top_and_skip(api_a, contacts):
    assert names(api_a.get("/Contact", {"$top": "2", "$skip": "1", "$orderBy": "Number1"})) == [
        "Berg Data AB", "Bergen Energi AS"]
    assert names(api_a.get("/Contact", {"$skip": "5"})) == []


def test_next_link_walks_every_page_once(api_a):
    for n in range(23):
        api_a.create("Contact", Name=f"Company {n:02d}")
    seen, url, pages = [], f"http://testserver{BASE_A}/Contact?$top=5&$orderBy=Name desc", 0
    while url:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.netloc == "testserver"  # absolute
        params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        body = api_a.client.get(parts.path, params, HTTP_AUTHORIZATION=f"Bearer {api_a.token}").json()
        seen += [row["Name"] for row in body["value"]]
        url = body.get("odata.nextLink")
        pages += 1
    assert pages == 5
    assert seen == [f"Company {n:02d}" for n in reversed(range(23))]


def test_default_page_is_fifty_and_top_is_capped(api_a, settings):
    assert api_a.get("/Contact").status_code == 200  # creates the tenant's sandbox
    tenant, now = SandboxTenant.objects.get(), datetime.now(UTC)
    Contact.objects.bulk_create(Contact(tenant=tenant, name=f"C{n}", created_date=now, updated_date=now)
                                for n in range(60))
    body = api_a.get("/Contact").json()
    assert len(body["value"]) == 50 and "$skip=50" in body["odata.nextLink"]
    assert len(api_a.get("/Contact", {"$top": "5000"}).json()["value"]) == 60


@pytest.mark.parametrize(("params", "message"), [
    ({"$filter": "Name eq"}, "condition"),
    ({"$filter": "Name eq 'A' or Name eq 'B'"}, "'and'"),
    ({"$filter": "Name is 'A'"}, "unknown operator"),
    ({"$filter": "Colour eq 'red'"}, "unknown field 'Colour'"),
    ({"$filter": "Name eq 12"}, "quoted string"),
    ({"$filter": "ContactId gt 'x'"}, "needs a number"),
    ({"$filter": "ContactId begins '1'"}, "is a number"),
    ({"$filter": "updated afterTime 'yesterday'"}, "ISO 8601"),
    ({"$filter": "updated eq '2026-12-04T10:00:00Z'"}, "afterTime"),
    ({"$filter": "Name afterTime '2026-12-04T10:00:00Z'"}, "afterTime"),
    ({"$filter": "Phones eq 'x'"}, "Phones cannot be used"),
    ({"$filter": "Name eq 'unterminated"}, "$filter"),
    ({"$select": "Name,Colour"}, "unknown field 'Colour'"),
    ({"$orderBy": "Colour"}, "unknown field 'Colour'"),
    ({"$orderBy": "Name sideways"}, "$orderBy"),
    ({"$top": "ten"}, "$top"),
    ({"$top": "0"}, "$top"),
    ({"$skip": "-1"}, "$skip"),
])
def test_bad_queries_answer_400_naming_the_problem(api_a, contacts, params, message):
    response = api_a.get("/Contact", params)
    assert response.status_code == 400
    assert message in response.json()["Error"]


def test_person_filter_by_contact_and_order_by_name(api_a, contacts):
    aker = contacts["Aker Bygg AS"]["ContactId"]
    for first, last in [("Ola", "Nordmann"), ("Kari", "Bakken"), ("Per", "Aas")]:
        api_a.create("Person", Firstname=first, Lastname=last, Contact={"ContactId": aker})
    api_a.create("Person", Firstname="Other", Lastname="Aaberg")
    rows = api_a.get("/Person", {"$filter": f"contactId eq {aker}", "$orderBy": "Lastname",
                                 "$select": "Firstname,Lastname"}).json()["value"]
    assert rows == [{"Firstname": "Per", "Lastname": "Aas"}, {"Firstname": "Kari", "Lastname": "Bakken"},
                    {"Firstname": "Ola", "Lastname": "Nordmann"}]


def test_list_endpoint_query_count_does_not_grow_with_rows(api_a, contacts, django_assert_num_queries):
    api_a.get("/Contact")  # the tenant exists and the token is cached from here on
    # One read of the tenant, one of the page (lists and country joined in).
    with django_assert_num_queries(2):
        assert len(api_a.get("/Contact").json()["value"]) == 5
    for n in range(20):
        api_a.create("Person", Lastname=f"P{n}", Contact={"ContactId": contacts["Aker Bygg AS"]["ContactId"]},
                     Position={"Id": 1})
    with django_assert_num_queries(2):
        assert len(api_a.get("/Person", {"$top": "100"}).json()["value"]) == 20

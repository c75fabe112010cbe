"""Entity CRUD through the sandbox API: create, read, update, delete, defaults, lists, bad input,
and two tenants that never see or change each other's rows."""

import pytest

from crm_sandbox.models import ChangeRecord, Contact, Person, Sale

from .conftest import BASE_A, TOKEN_A

pytestmark = pytest.mark.django_db


def test_contact_is_created_read_updated_and_deleted(api_a):
    created = api_a.create("Contact", Name="Fjordtek AS", OrgNr="912 345 678", Number1="10001",
                           Phones=[{"Value": "+47 22 33 44 55", "Description": "Switchboard"}],
                           Emails=[{"Value": "post@fjordtek.no"}], Country={"CountryId": 1},
                           Category={"Id": 1}, Business={"Id": 2})
    contact_id = created["ContactId"]
    assert created["Name"] == "Fjordtek AS" and created["OrgNr"] == "912 345 678"
    assert created["Phones"] == [{"Value": "+47 22 33 44 55", "StrippedValue": "+4722334455",
                                  "Description": "Switchboard"}]
    assert created["Country"] == {"CountryId": 1, "Name": "Norway", "TwoLetterISOCountry": "NO"}
    assert created["Category"] == {"Id": 1, "Value": "Customer"}
    assert created["Business"] == {"Id": 2, "Value": "Construction"}
    assert created["CreatedDate"].endswith("Z") and created["UpdatedDate"] == created["CreatedDate"]

    assert api_a.get(f"/Contact/{contact_id}").json() == created

    updated = api_a.put(f"/Contact/{contact_id}", {"department": "Sales", "Category": None}).json()
    assert updated["Department"] == "Sales" and updated["Name"] == "Fjordtek AS"  # only the fields sent
    assert updated["Category"] == {"Id": 0, "Value": ""}
    assert updated["UpdatedDate"] >= created["UpdatedDate"]

    assert api_a.delete(f"/Contact/{contact_id}").status_code == 204
    missing = api_a.get(f"/Contact/{contact_id}")
    assert missing.status_code == 404 and str(contact_id) in missing.json()["Error"]
    actions = list(ChangeRecord.objects.filter(table="Contact", row_id=contact_id)
                   .order_by("sequence").values_list("action", flat=True))
    assert actions == ["insert", "update", "delete"]


def test_updated_date_moves_on_every_write(api_a):
    created = api_a.create("Contact", Name="A")
    Contact.objects.filter(pk=created["ContactId"]).update(updated_date="2020-01-01T00:00:00Z")
    updated = api_a.put(f"/Contact/{created['ContactId']}", {"Name": "B"}).json()
    assert updated["UpdatedDate"] > "2020-01-01T00:00:00Z"


def test_person_belongs_to_a_contact_of_the_same_tenant(api_a, api_b):
    contact = api_a.create("Contact", Name="Nordlys AS")
    person = api_a.create("Person", Firstname="Kari", MiddleName="M.", Lastname="Nordmann",
                          Contact={"ContactId": contact["ContactId"]}, Position={"Id": 4},
                          MobilePhones=[{"Value": "+47 912 34 567"}], Emails=[{"Value": "kari@nordlys.no"}])
    assert person["Contact"] == {"ContactId": contact["ContactId"], "Name": "Nordlys AS"}
    assert person["Position"] == {"Id": 4, "Value": "Sales Manager"}
    assert person["MobilePhones"][0]["StrippedValue"] == "+4791234567"

    persons = api_a.get(f"/Contact/{contact['ContactId']}/Persons").json()["value"]
    assert [p["PersonId"] for p in persons] == [person["PersonId"]]

    refused = api_b.post("/Person", {"Lastname": "Spy", "Contact": {"ContactId": contact["ContactId"]}})
    assert refused.status_code == 400 and "Contact" in refused.json()["Error"]
    assert not Person.objects.filter(lastname="Spy").exists()


def test_deleting_a_contact_deletes_its_persons_and_unlinks_its_sales(api_a):
    contact = api_a.create("Contact", Name="Gone AS")
    person = api_a.create("Person", Lastname="Olsen", Contact={"ContactId": contact["ContactId"]})
    sale = api_a.create("Sale", Heading="Licences", Contact={"ContactId": contact["ContactId"]},
                        Person={"PersonId": person["PersonId"]}, Amount=1200.5, Status="Open", Probability=40)
    assert sale["Contact"]["Name"] == "Gone AS" and sale["Person"]["Lastname"] == "Olsen"
    assert api_a.delete(f"/Contact/{contact['ContactId']}").status_code == 204
    assert not Person.objects.exists()
    after = api_a.get(f"/Sale/{sale['SaleId']}").json()
    assert after["Contact"] == {"ContactId": 0, "Name": ""} and after["Person"]["PersonId"] == 0
    tables = set(ChangeRecord.objects.filter(action="delete").values_list("table", flat=True))
    assert tables == {"Contact", "Person"}


def test_product_pricelist_and_sale(api_a):
    pricelist = api_a.create("Pricelist", Name="Standard 2027", Currency="NOK",
                             CurrencyName="Norwegian krone", ValidFrom="2027-01-01T00:00:00Z",
                             ValidTo="2027-12-31T00:00:00Z", IsActive=True,
                             ERPPriceListKey="PL-1")
    assert pricelist["ValidFrom"] == "2027-01-01T00:00:00Z" and pricelist["Currency"] == "NOK"
    product = api_a.create("Product", Name="Support hour", ERPProductKey="P-100", ERPPriceListKey="PL-1",
                           UnitListPrice=1250, UnitCost=600.5, VAT=25, InAssortment=True, QuantityUnit="hour")
    assert product["UnitListPrice"] == 1250.0 and product["InAssortment"] is True
    sale = api_a.create("Sale", Heading="Framework agreement", Amount=50000, Status="Sold", Probability=100)
    assert sale["Status"] == "Sold" and sale["Saledate"].endswith("Z")
    listed = api_a.get("/Product", {"$filter": "ERPProductKey eq 'P-100'"}).json()["value"]
    assert [p["ProductId"] for p in listed] == [product["ProductId"]]


def test_default_entities_are_blank(api_a):
    contact = api_a.get("/Contact/default").json()
    assert contact["ContactId"] == 0 and contact["Name"] == "" and contact["Phones"] == []
    assert api_a.get("/Sale/default").json()["Status"] == "Open"
    assert api_a.get("/Person/default").json()["Contact"] == {"ContactId": 0, "Name": ""}
    assert not Contact.objects.exists()


@pytest.mark.parametrize(("entity", "body", "named"), [
    ("Contact", {}, "Name"),
    ("Contact", {"Name": "  "}, "Name"),
    ("Contact", {"Name": 12}, "Name"),
    ("Contact", {"Name": "x" * 221}, "Name"),
    ("Contact", {"Name": "A", "OrgNr": ["1"]}, "OrgNr"),
    ("Contact", {"Name": "A", "Phones": "22334455"}, "Phones"),
    ("Contact", {"Name": "A", "Emails": [{"Description": "no value"}]}, "Emails"),
    ("Contact", {"Name": "A", "Country": {"CountryId": 999}}, "Country"),
    ("Contact", {"Name": "A", "Category": 3}, "Category"),
    ("Person", {"Firstname": "Only"}, "Lastname"),
    ("Person", {"Lastname": "A", "Contact": {"ContactId": 99999}}, "Contact"),
    ("Sale", {"Heading": "A", "Status": "Won"}, "Status"),
    ("Sale", {"Heading": "A", "Probability": 101}, "Probability"),
    ("Sale", {"Heading": "A", "Amount": "12"}, "Amount"),
    ("Sale", {"Heading": "A", "Saledate": "yesterday"}, "Saledate"),
    ("Product", {"Name": "A", "InAssortment": "yes"}, "InAssortment"),
    ("Pricelist", {"Name": "A", "IsActive": 1}, "IsActive"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(api_a, entity, body, named):
    response = api_a.post(f"/{entity}", body)
    assert response.status_code == 400
    assert named in response.json()["Error"]
    assert not ChangeRecord.objects.exists()


def test_bad_update_changes_nothing(api_a):
    contact = api_a.create("Contact", Name="Stable AS")
    response = api_a.put(f"/Contact/{contact['ContactId']}", {"Name": "", "Department": "X"})
    assert response.status_code == 400 and "Name" in response.json()["Error"]
    assert api_a.get(f"/Contact/{contact['ContactId']}").json() == contact


def test_body_that_is_not_json_or_not_an_object_is_refused(api_a):
    assert api_a.post("/Contact", "{not json").status_code == 400
    response = api_a.post("/Contact", [{"Name": "A"}])
    assert response.status_code == 400 and "object" in response.json()["Error"]


def test_body_over_the_cap_is_413(api_a):
    response = api_a.post("/Contact", {"Name": "A", "Description": "x" * 70_000})
    assert response.status_code == 413 and "larger" in response.json()["Error"]
    assert not Contact.objects.exists()


def test_unknown_ids_and_paths_answer_404_json(api_a):
    for response in (api_a.get("/Person/12345"), api_a.put("/Sale/777", {"Heading": "x"}),
                     api_a.delete("/Product/5"), api_a.get("/Contact/5/Persons"), api_a.get("/Appointment")):
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json()["Error"]


def test_method_not_allowed_is_json(api_a):
    response = api_a.client.patch(BASE_A + "/Contact", "{}", content_type="application/json",
                                  HTTP_AUTHORIZATION=f"Bearer {TOKEN_A}")
    assert response.status_code == 405 and "PATCH" in response.json()["Error"]


def test_list_items(api_a):
    countries = api_a.get("/List/Country/Items").json()
    assert countries[0] == {"Id": 1, "Name": "Norway", "Deleted": False, "Rank": 1}
    for name in ("Category", "Business", "Position"):
        items = api_a.get(f"/List/{name}/Items").json()
        assert items and all(set(item) == {"Id", "Name", "Deleted", "Rank"} for item in items)


def test_two_tenants_never_see_or_change_each_others_rows(api_a, api_b):
    mine = api_a.create("Contact", Name="Mine AS")
    theirs = api_b.create("Contact", Name="Theirs AB")
    assert [c["Name"] for c in api_a.get("/Contact").json()["value"]] == ["Mine AS"]
    assert [c["Name"] for c in api_b.get("/Contact").json()["value"]] == ["Theirs AB"]
    assert api_b.get(f"/Contact/{mine['ContactId']}").status_code == 404
    assert api_b.put(f"/Contact/{mine['ContactId']}", {"Name": "Taken"}).status_code == 404
    assert api_b.delete(f"/Contact/{mine['ContactId']}").status_code == 404
    assert Contact.objects.get(pk=mine["ContactId"]).name == "Mine AS"
    feed_b = api_b.get("/ChangeFeed").json()["value"]
    assert [c["RowId"] for c in feed_b] == [theirs["ContactId"]]


def test_a_token_of_one_tenant_is_refused_at_another(api_a):
    response = api_a.client.get("/sandbox/sod/Cust10002/api/v1/Contact",
                                HTTP_AUTHORIZATION=f"Bearer {TOKEN_A}")
    assert response.status_code == 403 and "Cust10002" in response.json()["Error"]


def test_sale_is_unlinked_when_its_person_is_deleted(api_a):
    person = api_a.create("Person", Lastname="Berg")
    sale = api_a.create("Sale", Heading="Upgrade", Person={"PersonId": person["PersonId"]})
    assert api_a.delete(f"/Person/{person['PersonId']}").status_code == 204
    assert Sale.objects.get(pk=sale["SaleId"]).person_id is None

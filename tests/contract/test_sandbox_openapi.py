"""The CRM sandbox's answers against the CRM's own published OpenAPI (Swagger 2) documents.

The documents are read from ``../shared/reference/superoffice/openapi/`` next to the repository and
are never copied into it; without them this module is skipped. For Contact, Person, Product,
Pricelist and Sale, the entity answer (``GET /v1/<Entity>/<id>``) is validated against the schema the
document gives for that operation's 200 answer, and the list answer (``GET /v1/<Entity>?$select=…``)
against the list operation's 200 schema (the OData envelope: ``value``, ``odata.nextLink``,
``odata.metadata``), each row of it again against the entity schema.

Only what the sandbox serves is checked: every property it sends must be one the document defines,
with the document's JSON type, at any depth. Strings, objects and arrays may be null (the CRM sends
null for them); numbers and booleans may not. ``date-time`` strings must be ISO 8601 or empty (the
sandbox's blank date), ``int32`` integers must fit 32 bits. The envelope's rows are declared as
.NET dictionaries of ``object``; there ``object`` means any JSON value.
"""

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.utils.dateparse import parse_datetime

from crm_sandbox import auth
from tests.crm_sandbox.conftest import ANSWERS, BASE_A, TOKEN_A, Api

REFERENCE = Path(settings.BASE_DIR).parent / "shared" / "reference" / "superoffice" / "openapi"
ENTITY_NAMES = ("Contact", "Person", "Product", "Pricelist", "Sale")

if not all((REFERENCE / f"Swagger-v1-{name}.json").is_file() for name in ENTITY_NAMES):
    pytest.skip(f"The CRM's OpenAPI documents are not at {REFERENCE}.", allow_module_level=True)

pytestmark = pytest.mark.django_db

NULLABLE_TYPES = {"string", "object", "array"}
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or value == "" or parse_datetime(value) is not None


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


class Reference:
    """One Swagger 2 document: the schema of an operation's 200 answer, its ``$ref``s resolved."""

    def __init__(self, entity: str):
        self.entity = entity
        self.document = json.loads((REFERENCE / f"Swagger-v1-{entity}.json").read_text(encoding="utf-8"))

    def answer_schema(self, path: str, method: str = "get") -> dict:
        operations = self.document["paths"][path]
        assert method in operations, f"{self.entity}: the document has no {method.upper()} {path}"
        return self.resolve(operations[method]["responses"]["200"]["schema"])

    def resolve(self, schema: dict, seen: tuple[str, ...] = ()) -> dict:
        """The schema with every ``$ref`` inlined (a reference back into itself stays open: any value)."""
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/definitions/")
            if name in seen:
                return {}
            return self.resolve(self.document["definitions"][name], (*seen, name))
        resolved = dict(schema)
        if "properties" in schema:
            resolved["properties"] = {key: self.resolve(value, seen)
                                      for key, value in schema["properties"].items()}
        if isinstance(schema.get("items"), dict):
            resolved["items"] = self.resolve(schema["items"], seen)
        if isinstance(schema.get("additionalProperties"), dict):
            resolved["additionalProperties"] = self.resolve(schema["additionalProperties"], seen)
        return resolved


def as_json_schema(schema: dict) -> dict:
    """A resolved Swagger schema as JSON Schema: nothing required, strings/objects/arrays nullable,
    a dictionary of .NET ``object`` values open to any value."""
    converted = {key: value for key, value in schema.items() if key not in {"required", "description"}}
    if "properties" in schema:
        converted["properties"] = {key: as_json_schema(value) for key, value in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        converted["items"] = as_json_schema(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        values = schema["additionalProperties"]
        dotnet_object = values.get("type") == "object" and "properties" not in values
        converted["additionalProperties"] = {} if dotnet_object else as_json_schema(values)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind in NULLABLE_TYPES:
        converted["type"] = [kind, "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


def undeclared(instance: object, schema: dict, where: str = "") -> list[str]:
    """Paths of properties in ``instance`` the (resolved Swagger) schema does not define."""
    found: list[str] = []
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            if key in schema["properties"]:
                found += undeclared(value, schema["properties"][key], f"{where}.{key}")
            elif not isinstance(schema.get("additionalProperties"), dict):
                found.append(f"{where}.{key}")
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            found += undeclared(item, schema["items"], f"{where}[{index}]")
    return found


def problems(instance: object, schema: dict) -> list[str]:
    """Every way ``instance`` breaks the resolved Swagger ``schema``: wrong types, bad formats and
    properties the schema does not define."""
    validator = jsonschema.Draft4Validator(as_json_schema(schema), format_checker=FORMATS)
    errors = [f"{'.'.join(str(p) for p in error.absolute_path) or '(answer)'}: {error.message}"
              for error in validator.iter_errors(instance)]
    return errors + [f"{path[1:]}: not in the reference" for path in undeclared(instance, schema)]


@pytest.fixture(autouse=True)
def introspection(monkeypatch):
    monkeypatch.setattr(auth, "introspect", lambda environment, token, app_token: ANSWERS.get(
        token, {"active": False}))


@pytest.fixture
def api(client) -> Api:
    return Api(client, BASE_A, TOKEN_A)


@pytest.fixture
def rows(api) -> dict[str, dict]:
    """One row of each entity with every served field filled (nested references included), and a
    second Contact so the Contact list has a next page at $top=1."""
    contact = api.create("Contact", Name="Fjordtek AS", Department="Sales", OrgNr="912 345 678",
                         Number1="10001", Number2="A-7", Description="Key account",
                         Phones=[{"Value": "+47 22 33 44 55", "Description": "Switchboard"}],
                         Emails=[{"Value": "post@fjordtek.no"}], Urls=[{"Value": "https://fjordtek.no"}],
                         Country={"CountryId": 1}, Category={"Id": 1}, Business={"Id": 2})
    api.create("Contact", Name="Nordlys AS")
    person = api.create("Person", Firstname="Kari", MiddleName="M.", Lastname="Nordmann", Title="CFO",
                        Contact={"ContactId": contact["ContactId"]}, Position={"Id": 4},
                        Emails=[{"Value": "kari@fjordtek.no"}], OfficePhones=[{"Value": "+47 22 00 00 01"}],
                        MobilePhones=[{"Value": "+47 912 34 567"}])
    pricelist = api.create("Pricelist", Name="Standard 2027", Description="List prices", Currency="NOK",
                           CurrencyName="Norwegian krone", ValidFrom="2027-01-01T00:00:00Z",
                           ValidTo="2027-12-31T00:00:00Z", IsActive=True, ERPPriceListKey="PL-1")
    product = api.create("Product", Name="Support hour", Description="One hour", Code="SUP-1",
                         ItemNumber="1.2", PriceUnit="NOK", QuantityUnit="hour", ERPProductKey="P-100",
                         ERPPriceListKey="PL-1", UnitListPrice=1250, UnitCost=600.5, UnitMinimumPrice=900,
                         VAT=25, InAssortment=True, InStock=12, Url="https://fjordtek.no/support")
    sale = api.create("Sale", Heading="Framework agreement", Number="S-1", SaleText="Three years",
                      Amount=50000, Status="Sold", Probability=100, Saledate="2027-03-01T12:00:00Z",
                      Contact={"ContactId": contact["ContactId"]}, Person={"PersonId": person["PersonId"]})
    return {"Contact": contact, "Person": person, "Pricelist": pricelist, "Product": product, "Sale": sale}


ID_NAMES = {"Contact": "ContactId", "Person": "PersonId", "Product": "ProductId", "Pricelist": "PriceListId",
            "Sale": "SaleId"}


def entity_schema(entity: str) -> dict:
    reference = Reference(entity)
    paths = reference.document["paths"]
    # Product's single GET is declared under {productId}; the others under {id}.
    item_path = next(path for path in (f"/api/v1/{entity}/{{id}}", f"/api/v1/{entity}/{{productId}}")
                     if "get" in paths.get(path, {}))
    return reference.answer_schema(item_path)


def list_schema(entity: str) -> dict:
    return Reference(entity).answer_schema(f"/api/v1/{entity}")


@pytest.mark.parametrize("entity", ENTITY_NAMES)
def test_entity_answer_matches_the_reference(api, rows, entity):
    response = api.get(f"/{entity}/{rows[entity][ID_NAMES[entity]]}")
    assert response.status_code == 200, response.content
    served = response.json()
    assert problems(served, entity_schema(entity)) == []
    # Every field is filled, so no nested reference escaped the check by being empty.
    assert all(value not in (None, "", []) for value in served.values()), served


@pytest.mark.parametrize("entity", ENTITY_NAMES)
def test_entity_answers_of_create_update_and_default_match_the_reference(api, rows, entity):
    schema = entity_schema(entity)
    assert problems(rows[entity], schema) == []
    ident = rows[entity][ID_NAMES[entity]]
    updated = api.put(f"/{entity}/{ident}", {})
    assert updated.status_code == 200, updated.content
    assert problems(updated.json(), schema) == []
    blank = api.get(f"/{entity}/default")
    assert blank.status_code == 200, blank.content
    assert problems(blank.json(), schema) == []


@pytest.mark.parametrize("entity", ENTITY_NAMES)
def test_list_answer_matches_the_reference(api, rows, entity):
    fields = list(rows[entity])
    selected = ",".join(fields[:3] + fields[-2:])
    response = api.get(f"/{entity}", {"$select": selected, "$top": "1"})
    assert response.status_code == 200, response.content
    served = response.json()
    assert problems(served, list_schema(entity)) == []
    assert served["value"], served
    for row in served["value"]:
        assert set(row) == set(selected.split(","))
        assert problems(row, entity_schema(entity)) == []

    every_field = api.get(f"/{entity}").json()
    assert problems(every_field, list_schema(entity)) == []
    for row in every_field["value"]:
        assert problems(row, entity_schema(entity)) == []


def test_the_next_link_is_part_of_the_declared_envelope(api, rows):
    served = api.get("/Contact", {"$select": "ContactId,Name", "$top": "1"}).json()
    assert "odata.nextLink" in served
    assert problems(served, list_schema("Contact")) == []
    assert problems({**served, "odata.nextLink": 2}, list_schema("Contact"))
    assert problems({**served, "value": {"ContactId": 1}}, list_schema("Contact"))


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: c.update(ContactId=str(c["ContactId"])), "ContactId"),
    (lambda c: c.update(ContactId=None), "ContactId"),
    (lambda c: c.update(ContactId=2**31), "ContactId"),
    (lambda c: c.update(Name=12), "Name"),
    (lambda c: c.update(Phones={"Value": "1"}), "Phones"),
    (lambda c: c["Phones"][0].update(Value=5), "Phones.0.Value"),
    (lambda c: c["Country"].update(CountryId="1"), "Country.CountryId"),
    (lambda c: c.update(CreatedDate=1767225600), "CreatedDate"),
    (lambda c: c.update(UpdatedDate="yesterday"), "UpdatedDate"),
    (lambda c: c.update(Nickname="Fjordy"), "Nickname: not in the reference"),
    (lambda c: c["Category"].update(Label="x"), "Category.Label: not in the reference"),
])
def test_a_served_value_of_the_wrong_type_fails_the_check(api, rows, change, expected):
    served = api.get(f"/Contact/{rows['Contact']['ContactId']}").json()
    changed = copy.deepcopy(served)
    change(changed)
    found = problems(changed, entity_schema("Contact"))
    assert any(problem.startswith(expected) for problem in found), found


def test_a_list_row_of_the_wrong_type_fails_the_check(api, rows):
    served = api.get("/Sale", {"$select": "SaleId,Amount,Status"}).json()
    row = {**served["value"][0], "Amount": "50000"}
    assert any(p.startswith("Amount") for p in problems(row, entity_schema("Sale")))
    row = {**served["value"][0], "Status": "Won"}
    assert any(p.startswith("Status") for p in problems(row, entity_schema("Sale")))

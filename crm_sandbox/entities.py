"""The five entities the sandbox serves: their JSON field names (as in the CRM's REST WebAPI),
how each is stored, shown and read from a request body."""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import models
from django.utils.dateparse import parse_datetime

from .models import Contact, ListItem, ListName, Person, Pricelist, Product, Sale, SaleStatus, SandboxTenant

MAX_ELEMENTS = 20
INT32_MAX = 2**31 - 1


class InvalidValue(ValueError):
    """A request value the sandbox refuses; the message names the field."""


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(name: str, value: object) -> datetime:
    parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidValue(f"{name} must be an ISO 8601 date and time, e.g. '2026-12-04T10:00:00Z'.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Field:
    """One served field. ``kind`` decides how it is shown, parsed, filtered and sorted:
    id, str, int, float, bool, datetime, elements, list, contact, person, choice."""

    name: str
    attr: str
    kind: str
    max_length: int = 0
    writable: bool = True
    list_name: str = ""
    id_key: str = "Id"
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None

    @property
    def sortable(self) -> bool:
        return self.kind in {"id", "str", "int", "float", "bool", "datetime", "choice"}


@dataclass(frozen=True)
class Entity:
    name: str
    model: type[models.Model]
    id_name: str
    fields: tuple[Field, ...]
    required: tuple[str, ...]
    related: tuple[str, ...] = ()
    # Extra names accepted in $filter and $orderBy only: lowercase name → (model path, kind).
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)

    def field(self, name: str) -> Field | None:
        return self._by_lower().get(name.strip().lower())

    def _by_lower(self) -> dict[str, Field]:
        return {f.name.lower(): f for f in self.fields}

    def queryset(self, tenant: SandboxTenant) -> models.QuerySet:
        """The only way to the entity's rows: always scoped to one tenant."""
        return self.model.objects.filter(tenant=tenant).select_related(*self.related)

    # Presenting -----------------------------------------------------------------------------

    def to_json(self, row: models.Model, selected: list[Field] | None = None) -> dict:
        return {f.name: present(f, row) for f in (selected or self.fields)}

    def blank(self, tenant: SandboxTenant, now: datetime) -> dict:
        defaults = initial_values(self.name, now)
        row = self.model(tenant=tenant, created_date=now, updated_date=now, **defaults)
        row.pk = 0
        return self.to_json(row)

    # Reading a body -------------------------------------------------------------------------

    def parse(self, tenant: SandboxTenant, body: object, *, creating: bool) -> dict:
        """Model attribute → value for the writable fields present in ``body`` (case-insensitive
        names; read-only and unknown names are ignored, as entities read back are sent again)."""
        if not isinstance(body, dict):
            raise InvalidValue(f"The body must be a JSON object (a {self.name} entity).")
        values: dict = {}
        for key, value in body.items():
            spec = self.field(key) if isinstance(key, str) else None
            if spec is None or not spec.writable:
                continue
            values[spec.attr] = parse_value(spec, tenant, value)
        if creating:
            for name in self.required:
                spec = self.field(name)
                if not _filled(values.get(spec.attr)):
                    raise InvalidValue(f"{spec.name} is required.")
        else:
            for name in self.required:
                spec = self.field(name)
                if spec.attr in values and not _filled(values[spec.attr]):
                    raise InvalidValue(f"{spec.name} cannot be blank.")
        return values


def _filled(value: object) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


# Presenting a field ---------------------------------------------------------------------------

def _element_list(items: list) -> list[dict]:
    return [{"Value": item.get("Value", ""), "StrippedValue": item.get("StrippedValue", ""),
             "Description": item.get("Description", "")} for item in items or []]


def _list_ref(spec: Field, item: ListItem | None) -> dict:
    if spec.list_name == ListName.COUNTRY:
        return {"CountryId": item.item_id if item else 0, "Name": item.name if item else "",
                "TwoLetterISOCountry": item.code if item else ""}
    return {"Id": item.item_id if item else 0, "Value": item.name if item else ""}


def present(spec: Field, row: models.Model):
    value = row.pk if spec.kind == "id" else getattr(row, spec.attr)
    if spec.kind == "datetime":
        return iso(value)
    if spec.kind == "elements":
        return _element_list(value)
    if spec.kind == "list":
        return _list_ref(spec, value)
    if spec.kind == "contact":
        return {"ContactId": value.pk if value else 0, "Name": value.name if value else ""}
    if spec.kind == "person":
        return {"PersonId": value.pk if value else 0, "Firstname": value.firstname if value else "",
                "Lastname": value.lastname if value else ""}
    if spec.kind in {"str", "choice"}:
        return value or ""
    return value


# Reading a field ------------------------------------------------------------------------------

def _text(spec: Field, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(f"{spec.name} must be a string.")
    if spec.max_length and len(value) > spec.max_length:
        raise InvalidValue(f"{spec.name} is longer than {spec.max_length} characters.")
    if any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        raise InvalidValue(f"{spec.name} contains control characters.")
    return value


def _number(spec: Field, value: object, *, integer: bool) -> float | int:
    wrong_type = integer and not isinstance(value, int)
    if isinstance(value, bool) or not isinstance(value, int | float) or wrong_type:
        raise InvalidValue(f"{spec.name} must be {'an integer' if integer else 'a number'}.")
    if not math.isfinite(value) or abs(value) > (INT32_MAX if integer else 1e15):
        raise InvalidValue(f"{spec.name} is out of range.")
    return value


def stripped(kind_name: str, value: str) -> str:
    """What systems parse: phone numbers keep digits and a leading +; addresses are trimmed."""
    if kind_name.endswith("Phones"):
        return ("+" if value.strip().startswith("+") else "") + re.sub(r"\D", "", value)
    return value.strip()


def _elements(spec: Field, value: object) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ELEMENTS:
        raise InvalidValue(f"{spec.name} must be a list of at most {MAX_ELEMENTS} objects with Value.")
    items = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("Value"), str):
            raise InvalidValue(f"{spec.name}: every item must be an object with a string Value.")
        text = _text(Field(f"{spec.name}.Value", "", "str", 250), item["Value"]).strip()
        description = _text(Field(f"{spec.name}.Description", "", "str", 250), item.get("Description"))
        if text:
            items.append({"Value": text, "StrippedValue": stripped(spec.name, text),
                          "Description": description})
    return items


def _reference_id(spec: Field, value: object, id_key: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidValue(f"{spec.name} must be an object with {id_key}, or null.")
    ident = next((v for k, v in value.items() if isinstance(k, str) and k.lower() == id_key.lower()), None)
    if ident is None:
        raise InvalidValue(f"{spec.name} must be an object with {id_key}, or null.")
    if isinstance(ident, bool) or not isinstance(ident, int) or ident < 0:
        raise InvalidValue(f"{spec.name}.{id_key} must be a non-negative integer.")
    return ident or None


def parse_value(spec: Field, tenant: SandboxTenant, value: object):
    if spec.kind == "str":
        return _text(spec, value)
    if spec.kind == "int":
        number = _number(spec, value, integer=True)
        if spec.bounds and not spec.bounds[0] <= number <= spec.bounds[1]:
            raise InvalidValue(f"{spec.name} must be from {spec.bounds[0]} to {spec.bounds[1]}.")
        return number
    if spec.kind == "float":
        return float(_number(spec, value, integer=False))
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidValue(f"{spec.name} must be true or false.")
        return value
    if spec.kind == "datetime":
        return parse_time(spec.name, value)
    if spec.kind == "choice":
        if value not in spec.choices:
            raise InvalidValue(f"{spec.name} must be one of: {', '.join(spec.choices)}.")
        return value
    if spec.kind == "elements":
        return _elements(spec, value)
    if spec.kind == "list":
        ident = _reference_id(spec, value, spec.id_key)
        if ident is None:
            return None
        item = ListItem.objects.filter(tenant=tenant, list_name=spec.list_name, item_id=ident).first()
        if item is None:
            raise InvalidValue(f"{spec.name}: there is no {spec.name} with {spec.id_key} {ident}.")
        return item
    if spec.kind in {"contact", "person"}:
        model, key = (Contact, "ContactId") if spec.kind == "contact" else (Person, "PersonId")
        ident = _reference_id(spec, value, key)
        if ident is None:
            return None
        # Scoped to the tenant: another tenant's row is as unknown as a row that never existed.
        row = model.objects.filter(tenant=tenant, pk=ident).first()
        if row is None:
            raise InvalidValue(f"{spec.name}: there is no {model.__name__.lower()} with {key} {ident}.")
        return row
    raise AssertionError(spec.kind)


def _dates() -> tuple[Field, Field]:
    return (Field("CreatedDate", "created_date", "datetime", writable=False),
            Field("UpdatedDate", "updated_date", "datetime", writable=False))


CONTACT = Entity(
    name="Contact", model=Contact, id_name="ContactId", required=("Name",),
    related=("country", "category", "business"),
    fields=(
        Field("ContactId", "pk", "id", writable=False),
        Field("Name", "name", "str", 220),
        Field("Department", "department", "str", 220),
        Field("OrgNr", "org_nr", "str", 40),
        Field("Number1", "number1", "str", 40),
        Field("Number2", "number2", "str", 40),
        Field("Description", "description", "str", 4000),
        Field("Phones", "phones", "elements"),
        Field("Emails", "emails", "elements"),
        Field("Urls", "urls", "elements"),
        Field("Country", "country", "list", list_name=ListName.COUNTRY, id_key="CountryId"),
        Field("Category", "category", "list", list_name=ListName.CATEGORY),
        Field("Business", "business", "list", list_name=ListName.BUSINESS),
        *_dates(),
    ),
    aliases={"countryid": ("country__item_id", "int"), "categoryid": ("category__item_id", "int"),
             "businessid": ("business__item_id", "int")},
)

PERSON = Entity(
    name="Person", model=Person, id_name="PersonId", required=("Lastname",),
    related=("contact", "position"),
    fields=(
        Field("PersonId", "pk", "id", writable=False),
        Field("Firstname", "firstname", "str", 120),
        Field("MiddleName", "middle_name", "str", 120),
        Field("Lastname", "lastname", "str", 120),
        Field("Title", "title", "str", 120),
        Field("Contact", "contact", "contact"),
        Field("Emails", "emails", "elements"),
        Field("OfficePhones", "office_phones", "elements"),
        Field("MobilePhones", "mobile_phones", "elements"),
        Field("Position", "position", "list", list_name=ListName.POSITION),
        *_dates(),
    ),
    aliases={"contactid": ("contact_id", "int")},
)

PRODUCT = Entity(
    name="Product", model=Product, id_name="ProductId", required=("Name",),
    fields=(
        Field("ProductId", "pk", "id", writable=False),
        Field("ERPProductKey", "erp_product_key", "str", 200),
        Field("ERPPriceListKey", "erp_pricelist_key", "str", 200),
        Field("Name", "name", "str", 200),
        Field("Description", "description", "str", 4000),
        Field("Code", "code", "str", 80),
        Field("ItemNumber", "item_number", "str", 80),
        Field("PriceUnit", "price_unit", "str", 40),
        Field("QuantityUnit", "quantity_unit", "str", 40),
        Field("UnitCost", "unit_cost", "float"),
        Field("UnitListPrice", "unit_list_price", "float"),
        Field("UnitMinimumPrice", "unit_minimum_price", "float"),
        Field("VAT", "vat", "float"),
        Field("InAssortment", "in_assortment", "bool"),
        Field("InStock", "in_stock", "float"),
        Field("Url", "url", "str", 400),
    ),
)

PRICELIST = Entity(
    name="Pricelist", model=Pricelist, id_name="PriceListId", required=("Name",),
    fields=(
        Field("PriceListId", "pk", "id", writable=False),
        Field("ERPPriceListKey", "erp_pricelist_key", "str", 200),
        Field("Name", "name", "str", 200),
        Field("Description", "description", "str", 4000),
        Field("Currency", "currency", "str", 8),
        Field("CurrencyName", "currency_name", "str", 80),
        Field("ValidFrom", "valid_from", "datetime"),
        Field("ValidTo", "valid_to", "datetime"),
        Field("IsActive", "is_active", "bool"),
    ),
)

SALE = Entity(
    name="Sale", model=Sale, id_name="SaleId", required=("Heading",),
    related=("contact", "person"),
    fields=(
        Field("SaleId", "pk", "id", writable=False),
        Field("Heading", "heading", "str", 200),
        Field("Number", "number", "str", 40),
        Field("SaleText", "sale_text", "str", 4000),
        Field("Amount", "amount", "float"),
        Field("Saledate", "saledate", "datetime"),
        Field("Status", "status", "choice", choices=tuple(SaleStatus.values)),
        Field("Probability", "probability", "int", bounds=(0, 100)),
        Field("Contact", "contact", "contact"),
        Field("Person", "person", "person"),
        *_dates(),
    ),
    aliases={"contactid": ("contact_id", "int"), "personid": ("person_id", "int")},
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CONTACT, PERSON, PRODUCT, PRICELIST, SALE)}


def _year_after(now: datetime) -> datetime:
    return now.replace(year=now.year + 1, month=now.month, day=min(now.day, 28))


# Values a new row starts with, beyond the model's own defaults.
DEFAULTS: dict[str, Callable[[datetime], dict]] = {
    "Pricelist": lambda now: {"valid_from": now, "valid_to": _year_after(now)},
    "Sale": lambda now: {"saledate": now},
}


def initial_values(entity_name: str, now: datetime) -> dict:
    make = DEFAULTS.get(entity_name)
    return make(now) if make else {}


def entity_for_table(name: str) -> Entity | None:
    return next((e for e in ENTITIES.values() if e.name.lower() == name.strip().lower()), None)

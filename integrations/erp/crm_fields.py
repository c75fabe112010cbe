"""The CRM fields an ERP field can be mapped to, and where each lives in the CRM API's JSON.

A path is a tuple of keys and list indexes into the entity: ``("Phones", 0, "Value")`` is the first
phone number. List fields hold the id of an item of the CRM list named by ``crm_list``.
"""

from dataclasses import dataclass

from ..models import FieldType


@dataclass(frozen=True)
class CrmField:
    name: str
    label: str
    path: tuple
    max_length: int = 0
    crm_list: str = ""  # the CRM list whose item ids the field holds

    @property
    def is_list(self) -> bool:
        return bool(self.crm_list)

    @property
    def top(self) -> str:
        return self.path[0]


def _fields(*items: CrmField) -> dict[str, CrmField]:
    return {item.name: item for item in items}


CRM_FIELDS: dict[str, dict[str, CrmField]] = {
    "Contact": _fields(
        CrmField("Name", "Company name", ("Name",), 220),
        CrmField("Department", "Department", ("Department",), 60),
        CrmField("OrgNr", "Organisation number", ("OrgNr",), 40),
        CrmField("Number1", "Number 1", ("Number1",), 40),
        CrmField("Number2", "Number 2", ("Number2",), 40),
        CrmField("Description", "Description", ("Description",), 2000),
        CrmField("Phone", "Phone", ("Phones", 0, "Value"), 254),
        CrmField("Email", "E-mail", ("Emails", 0, "Value"), 254),
        CrmField("Url", "Web site", ("Urls", 0, "Value"), 254),
        CrmField("Country", "Country", ("Country", "CountryId"), crm_list="Country"),
        CrmField("Category", "Category", ("Category", "Id"), crm_list="Category"),
        CrmField("Business", "Business", ("Business", "Id"), crm_list="Business"),
    ),
    "Person": _fields(
        CrmField("Firstname", "First name", ("Firstname",), 50),
        CrmField("Middlename", "Middle name", ("Middlename",), 50),
        CrmField("Lastname", "Last name", ("Lastname",), 50),
        CrmField("Title", "Title", ("Title",), 100),
        CrmField("Email", "E-mail", ("Emails", 0, "Value"), 254),
        CrmField("Phone", "Office phone", ("OfficePhones", 0, "Value"), 254),
        CrmField("Mobile", "Mobile phone", ("MobilePhones", 0, "Value"), 254),
        CrmField("Position", "Position", ("Position", "Id"), crm_list="Position"),
    ),
}

ID_FIELD = {"Contact": "ContactId", "Person": "PersonId"}
# Company actor types sync with CRM companies; persons need a company.
COMPANY_TYPES = ("Customer", "Supplier", "Partner")
PERSON_TYPE = "Person"
ENTITY_OF = {**{name: "Contact" for name in COMPANY_TYPES}, PERSON_TYPE: "Person"}
# Types an ERP field may have to pair with a plain CRM field; List pairs only with a CRM list.
PLAIN_TYPES = {FieldType.TEXT, FieldType.INTEGER, FieldType.DOUBLE, FieldType.DATE, FieldType.CHECKBOX}


def crm_field(entity: str, name: str) -> CrmField | None:
    return CRM_FIELDS.get(entity, {}).get(name)


def read(row: dict, field: CrmField):
    """The field's value in a CRM entity or list row; None when absent."""
    current = row
    for key in field.path:
        if isinstance(key, int):
            if not isinstance(current, list) or len(current) <= key:
                return None
        elif not isinstance(current, dict):
            return None
        current = current[key] if isinstance(key, int) else current.get(key)
        if current is None:
            return None
    return current


def write(body: dict, field: CrmField, value) -> None:
    """Set the field in a CRM entity body being built."""
    top = field.path[0]
    if len(field.path) == 1:
        body[top] = value
    elif isinstance(field.path[1], int):  # an EntityElement list: the first element's Value
        body[top] = [{field.path[2]: value}] if value not in (None, "") else []
    else:
        body[top] = {field.path[1]: value} if value is not None else None

"""The carriers of the ERP connector protocol (integrations/erp/PROTOCOL.md in the platform):
field metadata, the value encoding and the answer envelope. No Flask, no database."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# FieldType
CHECKBOX, TEXT, PASSWORD, INTEGER, DOUBLE, LIST, DATE, LABEL = 0, 1, 2, 3, 4, 5, 6, 99
# Access
NORMAL, MANDATORY, READ_ONLY = 0, 1, 2
TYPE_NAMES = {CHECKBOX: "Checkbox", TEXT: "Text", PASSWORD: "Password", INTEGER: "Integer", DOUBLE: "Double",
              LIST: "List", DATE: "Date", LABEL: "Label"}

DATE_PATTERN = re.compile(r"\[DT:(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\]")
FLOAT_PATTERN = re.compile(r"\[F:(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\]")
INT_PATTERN = re.compile(r"\[I:(-?\d+)\]")
INT_LIMIT = 2**63  # SQLite's INTEGER


@dataclass(frozen=True)
class Field:
    key: str
    name: str
    type: int = TEXT
    access: int = NORMAL
    max_length: int = 0
    list_name: str = ""
    default: str = ""
    description: str = ""
    column: str = ""  # where the store keeps it; empty for configuration fields

    def metadata(self, rank: int) -> dict[str, Any]:
        return {"FieldKey": self.key, "DisplayName": self.name, "DisplayDescription": self.description,
                "FieldType": self.type, "ListName": self.list_name, "DefaultValue": self.default,
                "MaxLength": self.max_length, "Access": self.access, "Rank": rank}


class FieldValueError(ValueError):
    """A field value that does not fit its field; the message is shown to the administrator."""


# --- Encoding ---------------------------------------------------------------------------------

def encode_date(value: datetime | date) -> str:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return f"[DT:{value:%m/%d/%Y %H:%M:%S}.{value.microsecond:06d}0]"


def encode_float(value: float) -> str:
    return f"[F:{int(value)}]" if value.is_integer() and abs(value) < 1e15 else f"[F:{value!r}]"


def encode_int(value: int | bool) -> str:
    return f"[I:{int(value)}]"


def encode(field: Field, stored: Any) -> str:
    """The wire form of a value as the store keeps it (None is the empty string)."""
    if stored is None or stored == "":
        return ""
    if field.type == DATE:
        return encode_date(datetime.fromisoformat(stored))
    if field.type == DOUBLE:
        return encode_float(float(stored))
    if field.type in (INTEGER, CHECKBOX):
        return encode_int(int(stored))
    return str(stored)


def decode(field: Field, raw: Any, lists: dict[str, dict[str, str]] | None = None) -> Any:
    """The stored form of a wire value, or FieldValueError saying why it does not fit the field.

    An empty string clears a field that is not mandatory. Dates are stored as ISO 8601 text,
    decimals as float, integers and checkboxes as int, list fields as the item's key.
    """
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise FieldValueError(f"{field.key}: expected an encoded string, not {type(raw).__name__}.")
    if raw == "":
        if field.access == MANDATORY:
            raise FieldValueError(f"{field.key} is mandatory and cannot be empty.")
        return None
    if field.type in (TEXT, PASSWORD):
        if field.max_length and len(raw) > field.max_length:
            raise FieldValueError(f"{field.key} is at most {field.max_length} characters ({len(raw)} sent).")
        return raw
    if field.type == LIST:
        items = (lists or {}).get(field.list_name, {})
        if raw not in items:
            raise FieldValueError(f"{field.key}: {raw!r} is not a key of the list {field.list_name}.")
        return raw
    if field.type == DATE:
        return decode_date(field.key, raw).isoformat(timespec="microseconds")
    if field.type == DOUBLE:
        match = FLOAT_PATTERN.fullmatch(raw)
        value = float(match.group(1)) if match else math.nan
        if not math.isfinite(value):
            raise FieldValueError(f"{field.key} is a decimal: expected [F:1234.5], not {raw!r}.")
        return value
    if field.type in (INTEGER, CHECKBOX):
        match = INT_PATTERN.fullmatch(raw)
        value = int(match.group(1)) if match else None
        if field.type == CHECKBOX and value not in (0, 1):
            raise FieldValueError(f"{field.key} is a checkbox: expected [I:1] or [I:0], not {raw!r}.")
        if value is None or abs(value) >= INT_LIMIT:
            raise FieldValueError(f"{field.key} is an integer: expected [I:42], not {raw!r}.")
        return value
    raise FieldValueError(f"{field.key} is a {TYPE_NAMES.get(field.type, field.type)} and takes no value.")


def decode_date(key: str, raw: str) -> datetime:
    match = DATE_PATTERN.fullmatch(raw)
    if match is None:
        raise FieldValueError(f"{key} is a date: expected [DT:MM/dd/yyyy HH:mm:ss.fffffff], not {raw!r}.")
    month, day, year, hour, minute, second, fraction = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int((fraction or "0").ljust(7, "0")[:6]))
    except ValueError:
        raise FieldValueError(f"{key}: {raw!r} is not a valid date.") from None


# --- LastModified -----------------------------------------------------------------------------

def utc_now() -> str:
    return format_timestamp(datetime.now(UTC))


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and Z: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> str:
    """A Timestamp the platform sent, normalised to the stored form; a time without zone is UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_timestamp(moment)


# --- The answer envelope ----------------------------------------------------------------------

def ok(state: str = "Ok", user: str = "", **keys: Any) -> dict[str, Any]:
    return {"IsOk": True, "State": state, "UserExplanation": user, "TechExplanation": "", "ErrorCode": "",
            **keys}


def refused(user: str, tech: str = "", code: str = "", **keys: Any) -> dict[str, Any]:
    return {"IsOk": False, "State": "Error", "UserExplanation": user, "TechExplanation": tech or user,
            "ErrorCode": code, **keys}

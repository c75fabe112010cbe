"""ERP field values as the connector protocol encodes them (SPEC §10): strings as-is, dates
``[DT:MM/dd/yyyy HH:mm:ss.fffffff]``, decimals ``[F:…]``, integers and booleans ``[I:…]``.

``decode`` turns a connector's text into a Python value checked against the field's type, raising
``ValueError`` with a reason; ``encode`` does the reverse for values sent to the connector.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from ..models import FieldType

_DATE = re.compile(r"^\[DT:(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\]$")
_FLOAT = re.compile(r"^\[F:(.*)\]$")
_INT = re.compile(r"^\[I:(.*)\]$")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def decode(text, field_type: int):
    """The value of an encoded field of ``field_type``; None for an empty value."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise ValueError(f"expected an encoded string, got {type(text).__name__}")
    if field_type == FieldType.DATE:
        match = _DATE.match(text)
        if not match:
            raise ValueError(f"{text[:60]!r} is not a date like [DT:12/31/2026 23:59:59.0000000]")
        month, day, year, hour, minute, second, fraction = match.groups()
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int((fraction or "0").ljust(7, "0")[:6]),
                tzinfo=UTC,
            )
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date: {exc}") from None
    if field_type == FieldType.DOUBLE:
        match = _FLOAT.match(text) or _INT.match(text)
        return _decimal(match.group(1) if match else text)
    if field_type in (FieldType.INTEGER, FieldType.CHECKBOX):
        match = _INT.match(text)
        raw = match.group(1) if match else text
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"{text[:60]!r} is not an integer") from None
        if field_type == FieldType.CHECKBOX:
            if value not in (0, 1):
                raise ValueError(f"{text!r} is not a checkbox value ([I:0] or [I:1])")
            return bool(value)
        return value
    return text


def encode(value, field_type: int) -> str:
    """The protocol's text for ``value`` of ``field_type``; "" for None."""
    if value is None or value == "":
        return ""
    if field_type == FieldType.DATE:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        moment = moment.astimezone(UTC) if moment.tzinfo else moment
        return f"[DT:{moment:%m/%d/%Y %H:%M:%S}.{moment.microsecond:06d}0]"
    if field_type == FieldType.DOUBLE:
        return f"[F:{_decimal(str(value))}]"
    if field_type == FieldType.CHECKBOX:
        return f"[I:{1 if value in (True, 1, '1', 'true', 'True') else 0}]"
    if field_type == FieldType.INTEGER:
        return f"[I:{int(value)}]"
    return str(value)


def plain(value) -> str:
    """A decoded value as text for the sync log and for CRM text fields."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)

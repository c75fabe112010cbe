"""Field values as the ERP connector protocol encodes them (SPEC §10)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.erp import values
from integrations.models import FieldType


@pytest.mark.parametrize(
    ("value", "field_type", "text"),
    [
        ("Nordvik AS", FieldType.TEXT, "Nordvik AS"),
        (
            datetime(2026, 12, 4, 9, 5, 7, 123456, tzinfo=UTC),
            FieldType.DATE,
            "[DT:12/04/2026 09:05:07.1234560]",
        ),
        (Decimal("1234.50"), FieldType.DOUBLE, "[F:1234.50]"),
        (42, FieldType.INTEGER, "[I:42]"),
        (True, FieldType.CHECKBOX, "[I:1]"),
        (False, FieldType.CHECKBOX, "[I:0]"),
        ("NO", FieldType.LIST, "NO"),
    ],
)
def test_values_encode_and_decode_as_the_protocol_says(value, field_type, text):
    assert values.encode(value, field_type) == text
    assert values.decode(text, field_type) == value


def test_empty_values_are_none_both_ways():
    assert values.decode("", FieldType.INTEGER) is None
    assert values.decode(None, FieldType.DATE) is None
    assert values.encode(None, FieldType.DOUBLE) == ""


def test_a_date_without_fraction_is_accepted():
    assert values.decode("[DT:01/31/2026 23:59:59]", FieldType.DATE) == datetime(
        2026, 1, 31, 23, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "field_type", "reason"),
    [
        ("31/01/2026", FieldType.DATE, "is not a date"),
        ("[DT:13/45/2026 10:00:00.0000000]", FieldType.DATE, "is not a valid date"),
        ("[I:many]", FieldType.INTEGER, "is not an integer"),
        ("[F:abc]", FieldType.DOUBLE, "is not a number"),
        ("[F:NaN]", FieldType.DOUBLE, "is not a finite number"),
        ("[I:2]", FieldType.CHECKBOX, "is not a checkbox value"),
    ],
)
def test_malformed_values_are_refused_with_a_reason(text, field_type, reason):
    with pytest.raises(ValueError, match=reason):
        values.decode(text, field_type)


def test_a_value_that_is_not_text_is_refused():
    with pytest.raises(ValueError, match="expected an encoded string"):
        values.decode(12, FieldType.INTEGER)

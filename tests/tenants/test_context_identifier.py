"""Context identifiers are 'Cust' and ASCII digits."""

import pytest
from django.core.exceptions import ValidationError

from tenants.models import context_identifier_validator


@pytest.mark.parametrize("value", ["Cust12345", "Cust0"])
def test_cust_and_digits_are_accepted(value):
    context_identifier_validator(value)


@pytest.mark.parametrize("value", ["Cust１２３", "Cust", "cust123", "Cust12a", "Cust٣"])
def test_anything_else_is_refused(value):
    with pytest.raises(ValidationError):
        context_identifier_validator(value)

"""The Django admin leaves states to the lifecycle services."""

import pytest
from django.urls import reverse

from tenants.models import TenantState
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_cannot_add_tenants_or_change_their_state(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:tenants_tenant_add")).status_code == 403
    tenant = TenantFactory(state=TenantState.RUNNING)
    page = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert page.status_code == 200 and 'name="state"' not in page.text

import pytest
from django.db import IntegrityError

from tenants.models import Environment, Tenant, TenantState
from tenants.services import ensure_tenant, ensure_tenant_member
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_three_environments_exist_in_order():
    assert list(Environment.objects.values_list("code", flat=True)) == ["sod", "stage", "online"]


@pytest.mark.parametrize("state", list(TenantState))
def test_only_running_and_online_maintenance_count_as_running(state):
    tenant = TenantFactory(state=state)
    assert tenant.is_running == (state in (TenantState.RUNNING, TenantState.ONLINE_MAINTENANCE))


def test_context_identifier_is_unique_per_environment_only():
    TenantFactory(context_identifier="Cust555", environment=Environment.objects.get(code="sod"))
    TenantFactory(context_identifier="Cust555", environment=Environment.objects.get(code="online"))
    with pytest.raises(IntegrityError):
        TenantFactory(context_identifier="Cust555", environment=Environment.objects.get(code="sod"))


def test_ensure_tenant_and_member_are_idempotent():
    user = UserFactory()
    for _ in range(2):
        tenant = ensure_tenant(environment_code="sod", context_identifier="Cust777",
                               company_name="Example AS", serial=777)
        member = ensure_tenant_member(tenant=tenant, user=user, is_admin=True)
    assert Tenant.objects.filter(context_identifier="Cust777").count() == 1
    assert tenant.members.count() == 1 and member.is_admin

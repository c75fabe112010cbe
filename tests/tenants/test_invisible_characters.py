"""Company names and version labels refuse control and bidi-override characters, in forms and services."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from appstore.services.dev_tenants import request_development_tenant
from audit.models import AuditEntry
from tenants.models import Tenant, TenantState
from tenants.services import lifecycle
from tests.factories import PartnerMemberFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD = ["Acme\u202eSA", "Bell\u0007AS", "Zero\u200bWidth"]


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.mark.parametrize("name", BAD)
def test_create_refuses_them_in_the_form_and_the_service(client, staff, name):
    client.force_login(staff)
    response = client.post(reverse("staff-tenants:create"),
                           {"environment": "sod", "company_name": name, "admin_email": "a@north.example"})
    assert "may not contain control or invisible formatting characters" in response.text
    with pytest.raises(ValidationError) as refused:
        lifecycle.create_tenant(actor=staff, environment_code="sod", company_name=name,
                                admin_email="a@north.example")
    assert "company_name" in refused.value.error_dict
    assert not Tenant.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("label", ["11.0\u202e", "11\u00070"])
def test_upgrade_refuses_them_in_the_form_the_service_and_the_command(client, staff, label):
    tenant = TenantFactory(state=TenantState.RUNNING, version_label="10.0", context_identifier="Cust4343")
    client.force_login(staff)
    url = reverse("staff-tenants:action", args=[tenant.environment.code, tenant.context_identifier])
    response = client.post(url, {"action": "upgrade", "version_label": label}, follow=True)
    assert "may not contain control or invisible formatting characters" in response.text
    with pytest.raises(ValidationError):
        lifecycle.upgrade_tenant(actor=staff, tenant=tenant, version_label=label)
    with pytest.raises(CommandError) as refused:
        call_command("tenant", "Cust4343", "upgrade", "--version", label, stdout=StringIO())
    assert "U+" in str(refused.value)
    tenant.refresh_from_db()
    assert tenant.version_label == "10.0" and not AuditEntry.objects.exists()


def test_development_tenants_refuse_them(client):
    member = PartnerMemberFactory(can_configuration=True)
    client.force_login(member.user)
    response = client.post(reverse("portal:development_tenants"), {"company_name": "Demo\u202eCRM"})
    assert "may not contain control or invisible formatting characters (U+202E)" in response.text
    with pytest.raises(ValidationError):
        request_development_tenant(actor=member.user, partner=member.partner, company_name="Demo\u0007")
    assert not Tenant.objects.exists()


def test_ordinary_international_names_are_fine(staff):
    tenant = lifecycle.create_tenant(actor=staff, environment_code="sod", company_name="Ærø Café Ltd",
                                     admin_email="a@north.example")
    assert tenant.company_name == "Ærø Café Ltd"

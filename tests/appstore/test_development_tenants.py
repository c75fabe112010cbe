"""Development tenants on demand from the portal: the configuration permission, sod, the member as admin."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from appstore.models import Partner
from appstore.services.dev_tenants import request_development_tenant
from audit.models import AuditEntry
from tenants.models import Tenant, TenantMember, TenantState
from tests.factories import PartnerFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db

URL = reverse("portal:development_tenants")


def test_a_member_with_configuration_gets_a_running_sod_tenant(partner_client, partner_member,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_client.post(URL, {"company_name": ""})
    assert response.status_code == 302
    tenant = Tenant.objects.get()
    assert tenant.environment.code == "sod" and tenant.state == TenantState.RUNNING
    assert tenant.company_name == f"{partner_member.partner.name}-SOD"
    admin = TenantMember.objects.get(tenant=tenant)
    assert admin.user == partner_member.user and admin.is_admin
    entry = AuditEntry.objects.get(event_type="partner.development_tenant_requested")
    assert entry.partner_id == partner_member.partner_id and entry.tenant_id == tenant.pk
    page = partner_client.get(URL)
    assert tenant.context_identifier in page.text
    assert "My company's apps" in page.text  # the header links to the new tenant at once


def test_the_company_name_can_be_chosen(partner_client):
    partner_client.post(URL, {"company_name": "  Demo   CRM  "})
    assert Tenant.objects.get().company_name == "Demo CRM"


def test_a_member_without_configuration_is_refused(client):
    member = PartnerMemberFactory(can_configuration=False)
    client.force_login(member.user)
    page = client.get(URL)
    assert page.status_code == 200 and "Only members with the <strong>configuration</strong>" in page.text
    assert "Create a development tenant</button>" not in page.text
    assert client.post(URL, {"company_name": "Sneaky"}).status_code == 403
    with pytest.raises(PermissionDenied):
        request_development_tenant(actor=member.user, partner=member.partner)
    assert not Tenant.objects.exists() and not TenantMember.objects.exists()


def test_a_user_outside_the_partner_is_refused_by_the_service(partner_member):
    outsider = PartnerMemberFactory()
    with pytest.raises(PermissionDenied):
        request_development_tenant(actor=outsider.user, partner=partner_member.partner)
    assert not Tenant.objects.exists()


def test_the_page_needs_csrf(partner_member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_member.user)
    assert client.post(URL, {"company_name": ""}).status_code == 403
    assert not Tenant.objects.exists()


def test_the_longest_partner_name_fits(db):
    partner = PartnerFactory(name="P" * Partner._meta.get_field("name").max_length)
    member = PartnerMemberFactory(partner=partner)
    tenant = request_development_tenant(actor=member.user, partner=partner)
    assert tenant.company_name == partner.name + "-SOD"


def test_a_partner_may_have_a_limited_number_of_development_tenants(partner_client, partner_member, settings):
    from tenants.services.lifecycle import delete_tenant

    settings.DEVELOPMENT_TENANTS_PER_PARTNER = 2
    colleague = PartnerMemberFactory(partner=partner_member.partner, can_configuration=True)
    request_development_tenant(actor=partner_member.user, partner=partner_member.partner, company_name="One")
    request_development_tenant(actor=colleague.user, partner=partner_member.partner, company_name="Two")
    # Another partner's tenants and staff-created sod tenants do not count.
    other = PartnerMemberFactory(can_configuration=True)
    request_development_tenant(actor=other.user, partner=other.partner, company_name="Elsewhere")
    response = partner_client.post(URL, {"company_name": "Three"})
    assert response.status_code == 200
    assert "already has 2 development tenants" in response.text
    assert "manage.py tenant" in response.text and "platform staff to delete one" in response.text
    assert not Tenant.objects.filter(company_name="Three").exists()
    with pytest.raises(ValidationError):
        request_development_tenant(actor=colleague.user, partner=partner_member.partner, company_name="Three")
    # Deleting one makes room once it is deleted.
    staff = PartnerMemberFactory().user
    staff.is_staff = True
    staff.save()
    one = Tenant.objects.get(company_name="One")
    Tenant.objects.filter(pk=one.pk).update(state=TenantState.RUNNING)
    delete_tenant(actor=staff, tenant=one)
    Tenant.objects.filter(pk=one.pk).update(state=TenantState.DELETED)
    request_development_tenant(actor=partner_member.user, partner=partner_member.partner,
                               company_name="Three")
    assert Tenant.objects.filter(company_name="Three").exists()


def test_the_default_limit_is_five(settings):
    from appstore.services.dev_tenants import development_tenant_limit

    del settings.DEVELOPMENT_TENANTS_PER_PARTNER
    assert development_tenant_limit() == 5

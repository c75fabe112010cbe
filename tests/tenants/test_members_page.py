"""/my/<env>/<ctx>/members/: administrators manage members; others read; other tenants are a 404."""

import hashlib

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEntry
from tenants.models import Tenant, TenantInvitation, TenantMember, TenantState
from tests.factories import TenantFactory, TenantMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(tenant, name="members", *args):
    return reverse(f"tenant-members:{name}", args=[tenant.environment.code, tenant.context_identifier, *args])


@pytest.fixture
def tenant():
    return TenantFactory(company_name="North AS")


@pytest.fixture
def other_tenant():
    return TenantFactory(company_name="South AS")


@pytest.fixture
def admin(tenant):
    return TenantMemberFactory(tenant=tenant, is_general_administrator=True)


@pytest.fixture
def plain(tenant):
    return TenantMemberFactory(tenant=tenant)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def test_the_apps_page_links_to_members(admin_client, tenant):
    response = admin_client.get(reverse("my:apps", args=[tenant.environment.code, tenant.context_identifier]))
    assert url(tenant) in response.text


def test_admins_see_the_list_and_the_forms(admin_client, tenant, plain, django_assert_num_queries):
    admin_client.get(url(tenant))
    # session, user, the header's partner memberships, membership, members, pending invitations
    with django_assert_num_queries(6):
        response = admin_client.get(url(tenant))
    assert plain.user.email in response.text and "Invite a member" in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text


def test_plain_members_see_the_list_read_only(client, tenant, admin, plain):
    client.force_login(plain.user)
    response = client.get(url(tenant))
    assert admin.user.email in response.text and "Invite a member" not in response.text
    assert client.post(url(tenant), {"email": "x@example.com"}).status_code == 403
    assert client.post(url(tenant, "remove", admin.pk)).status_code == 403
    assert client.post(url(tenant, "admin", plain.pk), {"admin": "1"}).status_code == 403
    assert TenantMember.objects.filter(tenant=tenant).count() == 2
    plain.refresh_from_db()
    assert not plain.is_admin and not AuditEntry.objects.exists()


def test_another_tenants_pages_are_404(admin_client, tenant, other_tenant):
    stranger = TenantMemberFactory(tenant=other_tenant, is_general_administrator=True)
    assert admin_client.get(url(other_tenant)).status_code == 404
    assert admin_client.post(url(other_tenant), {"email": "x@example.com"}).status_code == 404
    assert admin_client.post(url(other_tenant, "remove", stranger.pk)).status_code == 404
    # A member of the other tenant addressed through my own tenant's page is no member of mine.
    assert admin_client.post(url(tenant, "remove", stranger.pk)).status_code == 404
    assert admin_client.post(url(tenant, "admin", stranger.pk), {"admin": "0"}).status_code == 404
    assert TenantMember.objects.filter(pk=stranger.pk, is_general_administrator=True).exists()


def test_inviting_adds_nobody_and_sends_a_link(admin_client, tenant, admin,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url(tenant), {"email": "New@Example.com", "is_admin": "on"})
    assert response.status_code == 302
    assert not TenantMember.objects.filter(tenant=tenant, user__email="new@example.com").exists()
    assert not User.objects.filter(email="new@example.com").exists()
    invitation = TenantInvitation.objects.get(tenant=tenant)
    assert invitation.email == "new@example.com" and invitation.is_admin
    assert invitation.invited_by == admin.user
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and "/my/invitations/" in message.body
    token = message.body.split("/my/invitations/")[1].split("/")[0]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(
        list(TenantInvitation.objects.values()))
    assert admin.user.email in message.body
    assert AuditEntry.objects.get(event_type="tenant.member_invited").actor == admin.user


def test_invite_refuses_bad_and_duplicate_addresses(admin_client, tenant, plain):
    response = admin_client.post(url(tenant), {"email": "not-an-address"})
    assert response.status_code == 200 and response.context["form"].errors["email"]
    response = admin_client.post(url(tenant), {"email": plain.user.email.upper()})
    assert "already a member" in response.text
    assert TenantMember.objects.filter(tenant=tenant).count() == 2
    assert not TenantInvitation.objects.exists() and not mail.outbox


def test_grant_and_withdraw_administrator(admin_client, tenant, admin, plain):
    admin_client.post(url(tenant, "admin", plain.pk), {"admin": "1"})
    plain.refresh_from_db()
    assert plain.is_admin
    admin_client.post(url(tenant, "admin", plain.pk), {"admin": "0"})
    plain.refresh_from_db()
    assert not plain.is_admin
    assert AuditEntry.objects.filter(event_type="tenant.member_rights_changed").count() == 2


@pytest.mark.parametrize("value", ["maybe", "", None, "true"])
def test_the_admin_toggle_refuses_unknown_values(admin_client, tenant, admin, plain, value):
    data = {} if value is None else {"admin": value}
    response = admin_client.post(url(tenant, "admin", plain.pk), data, follow=True)
    assert "Choose whether to grant or withdraw administrator rights" in response.text
    assert "no longer an administrator" not in response.text
    plain.refresh_from_db()
    assert not plain.is_admin and not AuditEntry.objects.exists()


def test_a_toggle_that_changes_nothing_says_so(admin_client, tenant, admin, plain):
    response = admin_client.post(url(tenant, "admin", plain.pk), {"admin": "0"}, follow=True)
    assert f"{plain.user.email} is not an administrator of North AS; nothing was changed." in response.text
    assert "is no longer an administrator" not in response.text
    TenantMemberFactory(tenant=tenant, is_general_administrator=True)
    response = admin_client.post(url(tenant, "admin", admin.pk), {"admin": "1"}, follow=True)
    assert "is already an administrator of North AS; nothing was changed." in response.text
    assert not AuditEntry.objects.exists()


def test_the_last_administrator_cannot_be_demoted_or_removed(admin_client, tenant, admin, plain):
    response = admin_client.post(url(tenant, "admin", admin.pk), {"admin": "0"}, follow=True)
    assert "last administrator" in response.text
    response = admin_client.post(url(tenant, "remove", admin.pk), follow=True)
    assert "last administrator" in response.text
    admin.refresh_from_db()
    assert admin.is_admin and not AuditEntry.objects.exists()


def test_user_administrator_counts_as_an_administrator(admin_client, tenant, admin):
    other = TenantMemberFactory(tenant=tenant, is_user_administrator=True)
    admin_client.post(url(tenant, "admin", admin.pk), {"admin": "0"})
    admin.refresh_from_db()
    assert not admin.is_admin and other.is_admin


def test_remove_a_member(admin_client, tenant, plain, other_tenant):
    elsewhere = TenantMemberFactory(tenant=other_tenant, user=plain.user)
    response = admin_client.post(url(tenant, "remove", plain.pk))
    assert response.status_code == 302
    assert not TenantMember.objects.filter(pk=plain.pk).exists()
    assert TenantMember.objects.filter(pk=elsewhere.pk).exists()


def test_forms_need_csrf_and_post(tenant, admin, plain):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    assert client.post(url(tenant, "remove", plain.pk)).status_code == 403
    assert client.post(url(tenant), {"email": "x@example.com"}).status_code == 403
    assert client.get(url(tenant, "remove", plain.pk)).status_code == 405
    assert TenantMember.objects.filter(tenant=tenant).count() == 2


def test_non_members_and_visitors(client, tenant, admin):
    assert client.get(url(tenant)).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url(tenant)).status_code == 404


@pytest.mark.parametrize("state", [TenantState.DELETING, TenantState.DELETED])
def test_a_deleted_tenants_members_cannot_be_changed(admin_client, tenant, admin, plain, state):
    Tenant.objects.filter(pk=tenant.pk).update(state=state)
    page = admin_client.get(url(tenant))
    label = TenantState(state).label
    assert f"State: <span class=\"tag\">{label}</span>" in page.text
    assert "its members can no longer be changed" in page.text and "Invite a member" not in page.text
    response = admin_client.post(url(tenant), {"email": "new@north.example"}, follow=True)
    assert f"North AS is {label.lower()}: its members can no longer be changed." in response.text
    response = admin_client.post(url(tenant, "admin", plain.pk), {"admin": "1"}, follow=True)
    assert "can no longer be changed" in response.text
    response = admin_client.post(url(tenant, "remove", plain.pk), follow=True)
    assert "can no longer be changed" in response.text
    plain.refresh_from_db()
    assert not plain.is_admin and TenantMember.objects.filter(tenant=tenant).count() == 2
    assert not AuditEntry.objects.exists() and not mail.outbox


def test_a_running_tenants_page_shows_its_state(admin_client, tenant):
    assert "State: <span class=\"tag\">Running</span>" in admin_client.get(url(tenant)).text

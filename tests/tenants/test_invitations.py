"""Tenant member invitations: nobody joins without accepting, signed in with the invited address."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from tenants.models import Tenant, TenantInvitation, TenantMember, TenantState
from tenants.services import members as member_services
from tenants.services.lifecycle import TenantError
from tests.factories import TenantFactory, TenantMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def members_url(tenant, name="members", *args):
    return reverse(f"tenant-members:{name}", args=[tenant.environment.code, tenant.context_identifier, *args])


def invitation_url(token):
    return reverse("tenant-members:invitation", args=[token])


@pytest.fixture
def tenant():
    return TenantFactory(company_name="North AS")


@pytest.fixture
def admin(tenant):
    return TenantMemberFactory(tenant=tenant, is_general_administrator=True)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def invite(admin, tenant, email, is_admin=False, capture=None) -> str:
    """Invite through the service and return the token e-mailed."""
    mail.outbox.clear()
    with capture(execute=True):
        member_services.invite_member(actor=admin.user, tenant=tenant, email=email, is_admin=is_admin)
    [message] = mail.outbox
    return message.body.split("/my/invitations/")[1].split("/")[0]


def test_the_answer_is_the_same_with_or_without_an_account(admin_client, tenant,
                                                           django_capture_on_commit_callbacks):
    UserFactory(email="known@example.com", full_name="Secret Owner")
    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(members_url(tenant), {"email": email}, follow=True)
        answers.append([str(m).replace(email, "ADDRESS") for m in response.context["messages"]])
        assert "Secret Owner" not in response.text
    assert answers[0] == answers[1] and "Invitation sent to ADDRESS" in answers[0][0]
    assert not User.objects.filter(email="unknown@example.com").exists()
    assert TenantMember.objects.filter(tenant=tenant).count() == 1
    assert len(mail.outbox) == 2


def test_the_members_page_lists_pending_invitations_and_revokes_them(admin_client, tenant, admin,
                                                                     django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "new@example.com", is_admin=True,
                   capture=django_capture_on_commit_callbacks)
    other = TenantFactory(company_name="South AS")
    other_admin = TenantMemberFactory(tenant=other, is_general_administrator=True)
    member_services.invite_member(actor=other_admin.user, tenant=other, email="elsewhere@example.com")
    invitation = TenantInvitation.objects.get(tenant=tenant)
    page = admin_client.get(members_url(tenant))
    assert "Pending invitations" in page.text and "new@example.com" in page.text
    assert "elsewhere@example.com" not in page.text
    assert invitation.expires_at.strftime("%-d %b %Y") in page.text and "Administrator" in page.text
    # Another tenant's invitation is not revoked through this page.
    foreign = TenantInvitation.objects.get(tenant=other)
    assert admin_client.post(members_url(tenant, "revoke_invitation", foreign.pk)).status_code == 404
    response = admin_client.post(members_url(tenant, "revoke_invitation", invitation.pk), follow=True)
    assert "Invitation of new@example.com revoked" in response.text
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
    page = admin_client.get(invitation_url(token))
    assert "This invitation was withdrawn" in page.text and "Accept and join" not in page.text


def test_plain_members_neither_see_nor_revoke_invitations(client, tenant, admin,
                                                          django_capture_on_commit_callbacks):
    invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    plain = TenantMemberFactory(tenant=tenant)
    client.force_login(plain.user)
    assert "new@example.com" not in client.get(members_url(tenant)).text
    invitation = TenantInvitation.objects.get()
    assert client.post(members_url(tenant, "revoke_invitation", invitation.pk)).status_code == 403
    with pytest.raises(PermissionDenied):
        member_services.revoke_invitation(actor=plain.user, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_accepting_signed_in_with_the_invited_address(client, tenant, admin,
                                                      django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "new@example.com", is_admin=True,
                   capture=django_capture_on_commit_callbacks)
    invitee = UserFactory(email="new@example.com", full_name="New Person")
    # Anonymous: sign in (back to this link) first; a POST without signing in adds nobody.
    page = client.get(invitation_url(token))
    assert page.status_code == 200 and "Accept and join" not in page.text
    assert "next=%2Fmy%2Finvitations%2F" in page.text
    assert client.post(invitation_url(token)).status_code == 302
    assert not TenantMember.objects.filter(user=invitee).exists()
    # Signed in: GET only shows the button; the POST accepts, with CSRF.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(invitee)
    page = strict.get(invitation_url(token))
    assert "Accept and join North AS" in page.text and 'name="csrfmiddlewaretoken"' in page.text
    assert not TenantMember.objects.filter(user=invitee).exists()
    assert strict.post(invitation_url(token)).status_code == 403
    client.force_login(invitee)
    response = client.post(invitation_url(token), follow=True)
    assert "Welcome to North AS" in response.text and "New Person" in response.text
    member = TenantMember.objects.get(tenant=tenant, user=invitee)
    assert member.is_admin
    invitation = TenantInvitation.objects.get()
    assert invitation.accepted_at is not None and invitation.accepted_by == invitee
    assert AuditEntry.objects.filter(event_type="tenant.member_added", actor=invitee).exists()
    again = client.post(invitation_url(token))
    assert "already been used" in again.text
    assert TenantMember.objects.filter(tenant=tenant).count() == 2


def test_someone_else_signed_in_cannot_accept(client, tenant, admin, django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    intruder = UserFactory(email="intruder@example.com")
    client.force_login(intruder)
    page = client.get(invitation_url(token))
    assert "this invitation was sent to <strong>new@example.com</strong>" in page.text
    response = client.post(invitation_url(token))
    assert "Sign in with new@example.com to accept it" in response.text
    assert not TenantMember.objects.filter(user=intruder).exists()
    assert TenantInvitation.objects.get().accepted_at is None


def test_an_address_without_an_account_creates_one_then_accepts(client, tenant, admin,
                                                                django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "fresh@example.com", capture=django_capture_on_commit_callbacks)
    response = client.post(invitation_url(token), {"create_account": "1"})
    assert response.status_code == 302 and "/password/reset/key/" in response["Location"]
    user = User.objects.get(email="fresh@example.com")
    assert not user.has_usable_password()
    assert not TenantMember.objects.filter(user=user).exists()  # joining still needs accepting
    done = client.get(reverse("account_reset_password_from_key_done"))
    assert f'?next={quote(invitation_url(token), safe="")}' in done.text  # back to the invitation
    user.set_password("a long enough password 42")
    user.save()
    # With a password the account signs in instead.
    response = client.post(invitation_url(token), {"create_account": "1"})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    client.force_login(user)
    client.post(invitation_url(token))
    assert TenantMember.objects.filter(tenant=tenant, user=user, is_general_administrator=False).exists()


def test_expired_unknown_and_deleted_tenants_invitations(client, tenant, admin,
                                                         django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    invitation = TenantInvitation.objects.get()
    assert timedelta(days=13, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=14)
    invitee = UserFactory(email="new@example.com")
    client.force_login(invitee)
    assert client.get(invitation_url("not-a-token")).status_code == 404
    TenantInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "This invitation has expired" in client.post(invitation_url(token)).text
    TenantInvitation.objects.update(expires_at=timezone.now() + timedelta(days=1))
    Tenant.objects.filter(pk=tenant.pk).update(state=TenantState.DELETING)
    assert "takes no new members" in client.post(invitation_url(token)).text
    with pytest.raises(TenantError):
        member_services.accept_invitation(user=invitee, token=token)
    assert not TenantMember.objects.filter(user=invitee).exists()


def test_one_open_invitation_per_address(tenant, admin, django_capture_on_commit_callbacks):
    invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    with pytest.raises(TenantError, match="already invited"):
        member_services.invite_member(actor=admin.user, tenant=tenant, email="NEW@example.com")
    TenantInvitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    old_token_hash = TenantInvitation.objects.get().token_hash
    invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    assert TenantInvitation.objects.filter(revoked_at__isnull=False, token_hash=old_token_hash).exists()
    assert TenantInvitation.objects.filter(revoked_at__isnull=True).count() == 1


def test_only_administrators_invite(tenant, admin):
    plain = TenantMemberFactory(tenant=tenant)
    with pytest.raises(PermissionDenied, match="Only the administrators"):
        member_services.invite_member(actor=plain.user, tenant=tenant, email="x@example.com")
    with pytest.raises(PermissionDenied, match="Only the administrators"):
        member_services.invite_member(actor=UserFactory(), tenant=tenant, email="x@example.com")
    assert not TenantInvitation.objects.exists()


def test_signing_in_from_the_invitation_comes_back_to_it(client, tenant, admin,
                                                         django_capture_on_commit_callbacks):
    token = invite(admin, tenant, "new@example.com", capture=django_capture_on_commit_callbacks)
    UserFactory(email="new@example.com", password="a long enough password 42")
    assert "/accounts/login/?next=" in client.get(invitation_url(token)).text
    response = client.post(reverse("account_login") + f"?next={invitation_url(token)}",
                           {"login": "new@example.com", "password": "a long enough password 42"})
    assert response.status_code == 302 and response["Location"] == invitation_url(token)
    assert "Accept and join North AS" in client.get(invitation_url(token)).text

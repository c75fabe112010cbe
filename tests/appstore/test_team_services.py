"""The team services: invitations, accepting them, permissions, removal with reassignment, bulk contacts."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import User
from appstore.models import App, Invitation, Partner, PartnerMember
from appstore.selectors import team as team_selectors
from appstore.services import team as team_services
from audit.models import AuditEntry
from tests.factories import AppFactory, PartnerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/portal/invitations/([A-Za-z0-9_-]+)/")
NO_FLAGS = {"read": True, "app_store": False, "configuration": False, "users": False}


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def admin(partner_member):
    return partner_member


@pytest.fixture
def partner(admin):
    return admin.partner


def colleague(partner, **flags) -> PartnerMember:
    defaults = {"can_app_store": False, "can_configuration": False, "can_users": False}
    return PartnerMemberFactory(partner=partner, **{**defaults, **flags})


def invite(admin, email, capture, **flags):
    with capture(execute=True):
        return team_services.invite_member(actor=admin.user, partner=admin.partner, email=email,
                                           permissions={**NO_FLAGS, **flags})


def token_from(mail) -> str:
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


# ---------------------------------------------------------------- invitations

def test_inviting_a_new_address_stores_only_the_hash_and_mails_the_link(
        admin, partner, mailoutbox, django_capture_on_commit_callbacks):
    invitation = invite(admin, "  New.Person@Example.COM ", django_capture_on_commit_callbacks,
                        app_store=True)

    assert isinstance(invitation, Invitation)
    assert invitation.email == "new.person@example.com"
    assert invitation.can_read and invitation.can_app_store and not invitation.can_users
    assert timedelta(days=13) < invitation.expires_at - timezone.now() <= timedelta(days=14)
    assert [m.to for m in mailoutbox] == [["new.person@example.com"]]
    assert partner.name in mailoutbox[0].subject
    token = token_from(mailoutbox[0])
    assert len(token) >= 40
    invitation.refresh_from_db()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The raw token is nowhere in the database: not in the invitation row, not in the audit log.
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    entry = AuditEntry.objects.get(event_type="invitation_sent")
    assert token not in entry.message and token not in str(entry.changes)
    assert entry.partner_id == partner.pk and entry.changes["email"] == [None, "new.person@example.com"]
    assert team_selectors.invitation_by_token(token) == invitation
    assert not PartnerMember.objects.filter(partner=partner, user__email="new.person@example.com").exists()


def test_inviting_an_existing_user_sends_an_invitation_and_adds_nobody(
        admin, partner, mailoutbox, django_capture_on_commit_callbacks):
    UserFactory(email="known@example.com", full_name="Known Person")

    invitation = invite(admin, "KNOWN@example.com", django_capture_on_commit_callbacks, configuration=True)

    assert isinstance(invitation, Invitation)
    assert invitation.email == "known@example.com" and invitation.can_configuration
    assert not PartnerMember.objects.filter(partner=partner, user__email="known@example.com").exists()
    assert [m.to for m in mailoutbox] == [["known@example.com"]]
    assert token_from(mailoutbox[0])
    assert "sign in with known@example.com" in mailoutbox[0].body
    assert not AuditEntry.objects.filter(event_type="member_added").exists()
    entry = AuditEntry.objects.get(event_type="invitation_sent")
    assert entry.changes["email"] == [None, "known@example.com"]
    assert "Known Person" not in entry.message


def test_the_existing_user_joins_only_by_accepting(admin, partner, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    user = UserFactory(email="known@example.com")
    invite(admin, "known@example.com", django_capture_on_commit_callbacks, configuration=True)
    token = token_from(mailoutbox[0])

    member = team_services.accept_invitation(user=user, token=token)

    assert member.user == user and member.partner == partner
    assert member.can_login and member.can_read and member.can_configuration and not member.can_users
    entry = AuditEntry.objects.get(event_type="member_added")
    assert entry.actor_id == user.pk and entry.changes["member"] == [None, "known@example.com"]
    assert entry.changes["can_configuration"] == [None, True]


def test_inviting_staff_does_not_pull_them_into_the_company(admin, partner, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    staff = UserFactory(email="reviewer@example.com", is_staff=True)

    invite(admin, staff.email, django_capture_on_commit_callbacks, users=True)

    assert not PartnerMember.objects.filter(user=staff).exists()
    assert Invitation.objects.get().email == staff.email


def test_the_answer_does_not_depend_on_whether_the_address_has_an_account(
        admin, partner, django_capture_on_commit_callbacks):
    UserFactory(email="has.account@example.com")

    known = invite(admin, "has.account@example.com", django_capture_on_commit_callbacks)
    unknown = invite(admin, "no.account@example.com", django_capture_on_commit_callbacks)

    assert type(known) is type(unknown) is Invitation
    fields = ("can_read", "can_app_store", "can_configuration", "can_users", "accepted_at", "revoked_at")
    assert [getattr(known, f) for f in fields] == [getattr(unknown, f) for f in fields]


@pytest.mark.parametrize(("address", "message"), [
    ("user@[127.0.0.1]", team_services.IP_LITERAL_EMAIL),
    ("user@[IPv6:::1]", team_services.IP_LITERAL_EMAIL),
    ('"quoted person"@example.com', team_services.INVALID_EMAIL),
    ("not-an-address", team_services.INVALID_EMAIL),
    ("user@example", team_services.INVALID_EMAIL),
])
def test_addresses_the_sign_up_form_refuses_cannot_be_invited(
        admin, address, message, mailoutbox, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as exc:
        invite(admin, address, django_capture_on_commit_callbacks)

    assert exc.value.message_dict["email"] == [message]
    assert not Invitation.objects.exists() and not mailoutbox


@pytest.mark.parametrize("address", ["first.last+crm@example.com", "o'brien@example.ie",
                                     "person@sub.example.co.uk", "ola@blåbær.no"])
def test_ordinary_addresses_pass_the_shared_check(address):
    team_services.validate_account_email(address)


def test_inviting_a_member_again_is_refused(admin, partner, django_capture_on_commit_callbacks):
    existing = colleague(partner)

    with pytest.raises(ValidationError) as exc:
        invite(admin, existing.user.email.upper(), django_capture_on_commit_callbacks)

    expected = f"{existing.user.email} is already a member of {partner.name}."
    assert exc.value.message_dict["email"] == [expected]


def test_a_second_open_invitation_to_the_same_address_is_refused(
        admin, partner, mailoutbox, django_capture_on_commit_callbacks):
    invite(admin, "twice@example.com", django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError) as exc:
        invite(admin, "Twice@Example.com", django_capture_on_commit_callbacks)

    assert "already invited" in exc.value.message_dict["email"][0]
    assert "resend or revoke" in exc.value.message_dict["email"][0]
    assert Invitation.objects.count() == 1 and len(mailoutbox) == 1


def test_an_expired_invitation_makes_way_for_a_new_one(admin, partner, django_capture_on_commit_callbacks):
    old = invite(admin, "late@example.com", django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    new = invite(admin, "late@example.com", django_capture_on_commit_callbacks)

    old.refresh_from_db()
    assert old.revoked_at is not None and new.pk != old.pk
    assert list(team_selectors.open_invitations(partner)) == [new]


def test_inviting_needs_the_users_permission(partner, django_capture_on_commit_callbacks):
    reader = colleague(partner)
    with pytest.raises(PermissionDenied):
        invite(reader, "x@example.com", django_capture_on_commit_callbacks)
    assert not Invitation.objects.exists()


def test_resend_replaces_the_link_and_revoke_kills_it(
        admin, partner, mailoutbox, django_capture_on_commit_callbacks):
    invitation = invite(admin, "again@example.com", django_capture_on_commit_callbacks)
    first = token_from(mailoutbox[0])

    with django_capture_on_commit_callbacks(execute=True):
        team_services.resend_invitation(actor=admin.user, invitation=invitation)
    second = token_from(mailoutbox[1])
    assert second != first
    assert team_selectors.invitation_by_token(first) is None
    assert team_selectors.invitation_by_token(second) == invitation

    team_services.revoke_invitation(actor=admin.user, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert list(AuditEntry.objects.filter(partner_id=partner.pk, event_type__startswith="invitation")
                .order_by("id").values_list("event_type", flat=True)) == [
        "invitation_sent", "invitation_resent", "invitation_revoked"]
    user = UserFactory(email="again@example.com")
    with pytest.raises(ValidationError, match="withdrawn"):
        team_services.accept_invitation(user=user, token=second)
    with pytest.raises(ValidationError, match="revoked"):
        team_services.resend_invitation(actor=admin.user, invitation=invitation)


# ---------------------------------------------------------------- accepting

def test_accepting_creates_the_membership_with_the_invited_flags(
        admin, partner, mailoutbox, django_capture_on_commit_callbacks):
    invitation = invite(admin, "joiner@example.com", django_capture_on_commit_callbacks,
                        app_store=True, users=True)
    token = token_from(mailoutbox[0])
    user = UserFactory(email="Joiner@example.com".lower())

    member = team_services.accept_invitation(user=user, token=token)

    assert member.partner == partner and member.user == user
    assert (member.can_login, member.can_read, member.can_app_store, member.can_configuration,
            member.can_users) == (True, True, True, False, True)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    with pytest.raises(ValidationError, match="already been used"):
        team_services.accept_invitation(user=user, token=token)


def test_accepting_with_another_account_is_refused(admin, mailoutbox, django_capture_on_commit_callbacks):
    invite(admin, "meant@example.com", django_capture_on_commit_callbacks)
    token = token_from(mailoutbox[0])
    stranger = UserFactory(email="stranger@example.com")

    with pytest.raises(ValidationError) as exc:
        team_services.accept_invitation(user=stranger, token=token)

    assert "sent to meant@example.com" in exc.value.messages[0]
    assert "signed in as stranger@example.com" in exc.value.messages[0]
    assert not PartnerMember.objects.filter(user=stranger).exists()


def test_expired_and_unknown_invitations_are_refused(admin, mailoutbox, django_capture_on_commit_callbacks):
    invitation = invite(admin, "slow@example.com", django_capture_on_commit_callbacks)
    token = token_from(mailoutbox[0])
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    user = UserFactory(email="slow@example.com")

    with pytest.raises(ValidationError, match="expired"):
        team_services.accept_invitation(user=user, token=token)
    with pytest.raises(ValidationError, match="not valid"):
        team_services.accept_invitation(user=user, token=token + "x")
    assert not PartnerMember.objects.filter(user=user).exists()


# ---------------------------------------------------------------- permissions

def test_permission_changes_are_audited_old_to_new(admin, partner):
    target = colleague(partner)

    team_services.update_member_permissions(actor=admin.user, member=target, app_store=True, read=False)

    target.refresh_from_db()
    assert target.can_app_store and not target.can_read
    entry = AuditEntry.objects.get(event_type="member_permissions_changed")
    assert entry.changes == {"can_read": [True, False], "can_app_store": [False, True]}
    assert entry.partner_id == partner.pk and entry.actor == admin.user
    # No change, no entry.
    team_services.update_member_permissions(actor=admin.user, member=target, app_store=True)
    assert AuditEntry.objects.filter(event_type="member_permissions_changed").count() == 1


def test_the_last_member_with_users_keeps_it(admin, partner):
    with pytest.raises(ValidationError) as exc:
        team_services.update_member_permissions(actor=admin.user, member=admin, users=False)
    assert "last member who can manage the team" in exc.value.message_dict["can_users"][0]
    with pytest.raises(ValidationError):
        team_services.update_member_permissions(actor=admin.user, member=admin, login=False)
    admin.refresh_from_db()
    assert admin.can_users and admin.can_login

    # Once someone else can manage the team, the flag may go.
    deputy = colleague(partner, can_users=True)
    team_services.update_member_permissions(actor=admin.user, member=admin, users=False)
    admin.refresh_from_db()
    assert not admin.can_users
    # ...and now the deputy is the last one, whoever takes the flag away.
    with pytest.raises(ValidationError, match="last member who can manage the team"):
        team_services.update_member_permissions(actor=deputy.user, member=deputy, read=True, login=False)
    deputy.refresh_from_db()
    assert deputy.can_login and deputy.can_users


def test_changing_permissions_needs_users(partner):
    reader = colleague(partner)
    other = colleague(partner)
    with pytest.raises(PermissionDenied):
        team_services.update_member_permissions(actor=reader.user, member=other, users=True)
    with pytest.raises(PermissionDenied):
        team_services.update_member_permissions(actor=reader.user, member=reader, users=True)
    other.refresh_from_db()
    reader.refresh_from_db()
    assert not other.can_users and not reader.can_users


# ---------------------------------------------------------------- removal

def test_removing_a_plain_member_detaches_them_but_keeps_the_account(admin, partner):
    leaver = colleague(partner)

    team_services.remove_member(actor=admin.user, member=leaver)

    assert not PartnerMember.objects.filter(pk=leaver.pk).exists()
    assert User.objects.filter(pk=leaver.user_id).exists()
    entry = AuditEntry.objects.get(event_type="member_removed")
    assert entry.changes == {"member": [leaver.user.email, None]}


@pytest.mark.parametrize("role", ["partner_technical", "partner_administrative", "app_technical"])
def test_removing_a_contact_is_refused_until_reassigned(admin, partner, role):
    leaver = colleague(partner)
    if role == "app_technical":
        AppFactory(partner=partner, name="Contact Sync", technical_contact=leaver.user, configured=False)
    else:
        field = "technical_contact" if role == "partner_technical" else "administrative_contact"
        Partner.objects.filter(pk=partner.pk).update(**{field: leaver.user})

    with pytest.raises(ValidationError) as exc:
        team_services.remove_member(actor=admin.user, member=leaver)

    message = exc.value.message_dict["reassign_to"][0]
    expected = {"partner_technical": f"technical contact of {partner.name}",
                "partner_administrative": f"administrative contact of {partner.name}",
                "app_technical": "technical contact of the app Contact Sync"}[role]
    assert expected in message
    assert PartnerMember.objects.filter(pk=leaver.pk).exists()


def test_reassign_and_remove_moves_every_role_then_removes(admin, partner):
    leaver = colleague(partner)
    heir = colleague(partner)
    Partner.objects.filter(pk=partner.pk).update(technical_contact=leaver.user,
                                                 administrative_contact=leaver.user)
    apps = [AppFactory(partner=partner, technical_contact=leaver.user, configured=False) for _ in range(2)]
    untouched = AppFactory(partner=partner, technical_contact=admin.user, configured=False)

    team_services.remove_member(actor=admin.user, member=leaver, reassign_to=heir)

    partner.refresh_from_db()
    assert partner.technical_contact == heir.user and partner.administrative_contact == heir.user
    assert set(App.objects.filter(technical_contact=heir.user)) == set(apps)
    untouched.refresh_from_db()
    assert untouched.technical_contact == admin.user
    assert not PartnerMember.objects.filter(pk=leaver.pk).exists()
    events = list(AuditEntry.objects.filter(partner_id=partner.pk).order_by("id")
                  .values_list("event_type", "app_id", "changes"))
    assert ("technical_contact_changed", None,
            {"technical_contact": [leaver.user.email, heir.user.email]}) in events
    assert ("administrative_contact_changed", None,
            {"administrative_contact": [leaver.user.email, heir.user.email]}) in events
    for app in apps:
        assert ("app_technical_contact_changed", app.pk,
                {"technical_contact": [leaver.user.email, heir.user.email]}) in events
    assert events[-1][0] == "member_removed"


def test_reassign_to_must_be_another_member_of_the_same_partner(admin, partner, other_partner_member):
    leaver = colleague(partner)
    Partner.objects.filter(pk=partner.pk).update(technical_contact=leaver.user)

    for wrong in (other_partner_member, leaver):
        with pytest.raises(ValidationError) as exc:
            team_services.remove_member(actor=admin.user, member=leaver, reassign_to=wrong)
        assert "reassign_to" in exc.value.message_dict
    partner.refresh_from_db()
    assert partner.technical_contact == leaver.user
    assert PartnerMember.objects.filter(pk=leaver.pk).exists()


def test_the_last_member_with_users_cannot_be_removed(admin, partner):
    colleague(partner)
    with pytest.raises(ValidationError, match="at least one member"):
        team_services.remove_member(actor=admin.user, member=admin)
    assert PartnerMember.objects.filter(pk=admin.pk).exists()


def test_removing_needs_users_and_the_same_partner(partner, other_partner_member):
    reader = colleague(partner)
    target = colleague(partner)
    with pytest.raises(PermissionDenied):
        team_services.remove_member(actor=reader.user, member=target)
    with pytest.raises(PermissionDenied):
        team_services.remove_member(actor=other_partner_member.user, member=target)
    assert PartnerMember.objects.filter(pk=target.pk).exists()


# ---------------------------------------------------------------- bulk technical contacts

def test_bulk_reassignment_audits_one_entry_per_changed_app(admin, partner):
    heir = colleague(partner)
    apps = [AppFactory(partner=partner, technical_contact=admin.user, configured=False) for _ in range(3)]
    already = AppFactory(partner=partner, technical_contact=heir.user, configured=False)

    changed = team_services.reassign_technical_contacts(
        actor=admin.user, partner=partner, app_ids=[a.pk for a in apps] + [already.pk], to_user=heir.user)

    assert changed == 3
    assert set(App.objects.filter(technical_contact=heir.user)) == {*apps, already}
    entries = AuditEntry.objects.filter(event_type="app_technical_contact_changed")
    assert sorted(entries.values_list("app_id", flat=True)) == sorted(a.pk for a in apps)
    assert all(e.changes == {"technical_contact": [admin.user.email, heir.user.email]} for e in entries)


def test_bulk_reassignment_refuses_another_partners_app_and_changes_nothing(
        admin, partner, other_partner_member):
    heir = colleague(partner)
    mine = AppFactory(partner=partner, technical_contact=admin.user, configured=False)
    theirs = AppFactory(partner=other_partner_member.partner, technical_contact=other_partner_member.user,
                        configured=False)

    with pytest.raises(ValidationError) as exc:
        team_services.reassign_technical_contacts(actor=admin.user, partner=partner,
                                                  app_ids=[mine.pk, theirs.pk], to_user=heir.user)

    assert "apps" in exc.value.message_dict
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.technical_contact == admin.user
    assert theirs.technical_contact == other_partner_member.user
    assert not AuditEntry.objects.filter(event_type="app_technical_contact_changed").exists()


def test_bulk_reassignment_refuses_a_non_member_and_needs_users(admin, partner, other_partner_member):
    app = AppFactory(partner=partner, technical_contact=admin.user, configured=False)
    with pytest.raises(ValidationError) as exc:
        team_services.reassign_technical_contacts(actor=admin.user, partner=partner, app_ids=[app.pk],
                                                  to_user=other_partner_member.user)
    assert "to_user" in exc.value.message_dict
    reader = colleague(partner)
    with pytest.raises(PermissionDenied):
        team_services.reassign_technical_contacts(actor=reader.user, partner=partner, app_ids=[app.pk],
                                                  to_user=reader.user)
    app.refresh_from_db()
    assert app.technical_contact == admin.user


# ---------------------------------------------------------------- selectors

def test_members_with_roles_counts_apps_and_marks_contacts(admin, partner, other_partner_member,
                                                           django_assert_num_queries):
    helper = colleague(partner)
    Partner.objects.filter(pk=partner.pk).update(technical_contact=helper.user,
                                                 administrative_contact=admin.user)
    for _ in range(2):
        AppFactory(partner=partner, technical_contact=helper.user, configured=False)
    # An app of another partner naming the same person does not count here.
    AppFactory(partner=other_partner_member.partner, technical_contact=helper.user, configured=False)

    with django_assert_num_queries(1):
        rows = {m.user_id: m for m in team_selectors.members_with_roles(partner)}

    assert set(rows) == {admin.user_id, helper.user_id}
    assert rows[helper.user_id].app_count == 2 and rows[admin.user_id].app_count == 0
    assert rows[helper.user_id].is_technical_contact and not rows[helper.user_id].is_administrative_contact
    assert rows[admin.user_id].is_administrative_contact and not rows[admin.user_id].is_technical_contact


def test_removing_a_member_revokes_their_api_tokens_for_good(admin, partner):
    from rest_framework.test import APIClient

    from tests.factories import api_token

    leaver = PartnerMemberFactory(partner=partner, can_users=False)
    raw = api_token(leaver)
    team_services.remove_member(actor=admin.user, member=leaver)
    # Rejoining (by accepting an invitation) does not bring the old token back.
    PartnerMember.objects.create(partner=partner, user=leaver.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/apps/").status_code == 401
    assert "1 API token revoked" in AuditEntry.objects.get(event_type="member_removed").message

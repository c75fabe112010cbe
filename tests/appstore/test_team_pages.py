"""The team pages: members, invitations, permissions, removal, technical contacts, and the invitation link."""

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from appstore.models import App, Invitation, Partner, PartnerMember
from appstore.selectors.partners import SESSION_KEY
from audit.models import AuditEntry
from tests.factories import AppFactory, PartnerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

TEAM = reverse("portal:team")
CONTACTS = reverse("portal:technical_contacts")
PASSPHRASE = "a-long-unusual-passphrase-42"


def colleague(partner, **flags) -> PartnerMember:
    defaults = {"can_app_store": False, "can_configuration": False, "can_users": False}
    return PartnerMemberFactory(partner=partner, **{**defaults, **flags})


def invitation_for(partner, email, *, token="tok-" + "a" * 40, days=14, **flags) -> Invitation:
    return Invitation.objects.create(
        partner=partner, email=email, token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(days=days), **flags)


def member_url(member) -> str:
    return reverse("portal:member", args=[member.pk])


def invitation_url(token) -> str:
    return reverse("portal:invitation", args=[token])


@pytest.fixture
def reader(partner_member):
    """A member of the same partner who may read but not manage the team."""
    return colleague(partner_member.partner)


# ---------------------------------------------------------------- team page

def test_team_page_lists_members_roles_app_counts_and_invitations(partner_client, partner_member):
    partner = partner_member.partner
    helper = colleague(partner, can_app_store=True)
    Partner.objects.filter(pk=partner.pk).update(technical_contact=helper.user,
                                                 administrative_contact=partner_member.user)
    AppFactory(partner=partner, technical_contact=helper.user, configured=False)
    AppFactory(partner=partner, technical_contact=helper.user, configured=False)
    invitation_for(partner, "pending@example.com", can_app_store=True)

    response = partner_client.get(TEAM)

    assert response.status_code == 200
    html = response.content.decode()
    rows = {m.user_id: m for m in response.context["members"]}
    assert rows[helper.user_id].app_count == 2 and rows[helper.user_id].is_technical_contact
    assert rows[partner_member.user_id].is_administrative_contact
    assert f'href="{member_url(helper)}"' in html
    assert "Technical contact" in html and "Administrative contact" in html
    assert "pending@example.com" in html
    inv = Invitation.objects.get()
    assert f'action="{reverse("portal:invitation_resend", args=[inv.pk])}"' in html
    assert f'action="{reverse("portal:invitation_revoke", args=[inv.pk])}"' in html
    assert 'name="email"' in html and 'name="can_users"' in html and "csrfmiddlewaretoken" in html


def test_inviting_from_the_page_mails_a_link_and_shows_the_invitation(
        partner_client, partner_member, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://portal.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_client.post(TEAM, {"email": "Fresh@Example.com", "can_read": "on",
                                              "can_configuration": "on"})

    assert response.status_code == 302 and response["Location"] == TEAM
    invitation = Invitation.objects.get()
    assert invitation.email == "fresh@example.com" and invitation.can_configuration
    assert not invitation.can_users and not invitation.can_app_store
    link = re.search(r"https://portal\.example\.com/portal/invitations/([\w-]+)/", mailoutbox[0].body)
    assert link and mailoutbox[0].to == ["fresh@example.com"]
    assert link.group(1) not in str(Invitation.objects.values().get())
    page = partner_client.get(TEAM).content.decode()
    assert "Invitation sent to fresh@example.com" in page and "fresh@example.com" in page


def test_inviting_a_member_again_shows_the_error_on_the_field_and_keeps_the_input(
        partner_client, partner_member):
    existing = colleague(partner_member.partner)
    invitation_for(partner_member.partner, "open@example.com")

    cases = ((existing.user.email, "is already a member of"), ("OPEN@example.com", "already invited"))
    for email, expected in cases:
        response = partner_client.post(TEAM, {"email": email, "can_read": "on", "can_users": "on"})
        assert response.status_code == 200
        assert expected in response.context["form"].errors["email"][0]
        html = response.content.decode()
        assert f'value="{email}"' in html
        assert re.search(r'name="can_users"[^>]*checked', html)
    assert Invitation.objects.count() == 1


def test_resend_and_revoke_from_the_page(partner_client, partner_member, mailoutbox,
                                         django_capture_on_commit_callbacks):
    invitation = invitation_for(partner_member.partner, "again@example.com")
    old_hash = invitation.token_hash

    with django_capture_on_commit_callbacks(execute=True):
        response = partner_client.post(reverse("portal:invitation_resend", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash and len(mailoutbox) == 1

    partner_client.post(reverse("portal:invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "again@example.com" not in partner_client.get(TEAM).content.decode().split("Open invitations")[1]


# ---------------------------------------------------------------- member page

def test_member_page_saves_flags_and_audits_them(partner_client, partner_member):
    target = colleague(partner_member.partner)

    page = partner_client.get(member_url(target))
    assert page.status_code == 200 and 'name="can_configuration"' in page.content.decode()
    response = partner_client.post(member_url(target), {"action": "permissions", "can_login": "on",
                                                        "can_read": "on", "can_configuration": "on"})

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.can_configuration and not target.can_app_store
    entry = AuditEntry.objects.get(event_type="member_permissions_changed")
    assert entry.changes == {"can_configuration": [False, True]}


def test_taking_away_the_last_users_flag_is_refused_on_the_page(partner_client, partner_member):
    response = partner_client.post(member_url(partner_member), {"action": "permissions", "can_login": "on",
                                                                "can_read": "on"})
    assert response.status_code == 200
    errors = response.context["permissions_form"].errors
    assert "last member who can manage the team" in errors["can_users"][0]
    partner_member.refresh_from_db()
    assert partner_member.can_users


def test_member_with_roles_gets_reassign_and_remove(partner_client, partner_member):
    partner = partner_member.partner
    leaver = colleague(partner)
    heir = colleague(partner)
    Partner.objects.filter(pk=partner.pk).update(technical_contact=leaver.user)
    app = AppFactory(partner=partner, name="Ledger Link", technical_contact=leaver.user, configured=False)

    html = partner_client.get(member_url(leaver)).content.decode()
    assert "Reassign and remove" in html
    assert "Technical contact of the app Ledger Link" in html
    assert f"Technical contact of {partner.name}" in html
    assert f'<option value="{heir.pk}">' in html and f'<option value="{leaver.pk}">' not in html

    refused = partner_client.post(member_url(leaver), {"action": "remove"})
    assert refused.status_code == 200
    assert refused.context["remove_form"].errors["reassign_to"]
    assert PartnerMember.objects.filter(pk=leaver.pk).exists()

    response = partner_client.post(member_url(leaver), {"action": "remove", "reassign_to": heir.pk})
    assert response.status_code == 302 and response["Location"] == TEAM
    assert not PartnerMember.objects.filter(pk=leaver.pk).exists()
    app.refresh_from_db()
    partner.refresh_from_db()
    assert app.technical_contact == heir.user and partner.technical_contact == heir.user


def test_member_without_roles_is_removed_directly(partner_client, partner_member):
    leaver = colleague(partner_member.partner)
    html = partner_client.get(member_url(leaver)).content.decode()
    assert "Reassign and remove" not in html and f"Remove {leaver.user.email}" in html

    response = partner_client.post(member_url(leaver), {"action": "remove"})

    assert response.status_code == 302
    assert not PartnerMember.objects.filter(pk=leaver.pk).exists()
    assert User.objects.filter(pk=leaver.user_id).exists()


# ---------------------------------------------------------------- technical contacts page

def test_technical_contacts_page_counts_and_bulk_reassigns(partner_client, partner_member):
    partner = partner_member.partner
    heir = colleague(partner)
    apps = [AppFactory(partner=partner, technical_contact=partner_member.user, configured=False)
            for _ in range(3)]

    page = partner_client.get(CONTACTS)
    assert page.status_code == 200
    counts = {m.user_id: m.app_count for m in page.context["members"]}
    assert counts == {partner_member.user_id: 3, heir.user_id: 0}
    assert f'name="apps" value="{apps[0].pk}"' in page.content.decode()

    response = partner_client.post(CONTACTS, {"apps": [apps[0].pk, apps[2].pk], "to_user": heir.user_id})

    assert response.status_code == 302
    assert set(App.objects.filter(technical_contact=heir.user)) == {apps[0], apps[2]}
    assert AuditEntry.objects.filter(event_type="app_technical_contact_changed").count() == 2


def test_bulk_reassign_errors_keep_the_selection(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user, configured=False)
    response = partner_client.post(CONTACTS, {"apps": [app.pk]})
    assert response.status_code == 200
    assert response.context["form"].errors["to_user"]
    assert re.search(rf'name="apps" value="{app.pk}"[^>]*checked', response.content.decode())


# ---------------------------------------------------------------- permissions

def test_member_without_users_sees_no_forms_and_gets_403_on_every_write(client, reader):
    partner = reader.partner
    admin = PartnerMember.objects.get(partner=partner, can_users=True)
    app = AppFactory(partner=partner, technical_contact=admin.user, configured=False)
    invitation = invitation_for(partner, "someone@example.com")
    client.force_login(reader.user)

    for url in (TEAM, member_url(admin), CONTACTS):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="email"' not in html and 'name="action"' not in html and 'name="to_user"' not in html
        assert 'name="apps"' not in html and "Resend" not in html and "Revoke" not in html
        assert "“users” permission" in html

    writes = [
        (TEAM, {"email": "x@example.com", "can_read": "on"}),
        (member_url(admin), {"action": "permissions", "can_login": "on"}),
        (member_url(admin), {"action": "remove"}),
        (member_url(reader), {"action": "permissions", "can_login": "on", "can_users": "on"}),
        (CONTACTS, {"apps": [app.pk], "to_user": reader.user_id}),
        (reverse("portal:invitation_resend", args=[invitation.pk]), {}),
        (reverse("portal:invitation_revoke", args=[invitation.pk]), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    reader.refresh_from_db()
    invitation.refresh_from_db()
    app.refresh_from_db()
    assert not reader.can_users and invitation.revoked_at is None and app.technical_contact == admin.user
    assert PartnerMember.objects.filter(pk=admin.pk).exists()
    assert Invitation.objects.count() == 1


def test_reading_the_team_needs_read(client, partner_member):
    blind = colleague(partner_member.partner, can_read=False)
    client.force_login(blind.user)
    assert client.get(TEAM).status_code == 403
    assert client.get(CONTACTS).status_code == 403


def test_two_partners_see_and_change_only_their_own_team(partner_client, partner_member,
                                                         other_partner_member):
    theirs = other_partner_member.partner
    their_colleague = colleague(theirs)
    their_invitation = invitation_for(theirs, "their-invitee@example.com")
    their_app = AppFactory(partner=theirs, technical_contact=other_partner_member.user, configured=False)
    mine = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user, configured=False)

    html = partner_client.get(TEAM).content.decode()
    assert their_colleague.user.email not in html and other_partner_member.user.email not in html
    assert "their-invitee@example.com" not in html
    assert their_app.name not in partner_client.get(CONTACTS).content.decode()

    assert partner_client.get(member_url(their_colleague)).status_code == 404
    assert partner_client.post(member_url(their_colleague), {"action": "remove"}).status_code == 404
    assert partner_client.post(member_url(their_colleague),
                               {"action": "permissions", "can_users": "on"}).status_code == 404
    for name in ("portal:invitation_resend", "portal:invitation_revoke"):
        assert partner_client.post(reverse(name, args=[their_invitation.pk])).status_code == 404
    # Their app (or their member as the new contact) cannot be slipped into the bulk form.
    response = partner_client.post(CONTACTS, {"apps": [mine.pk, their_app.pk],
                                              "to_user": partner_member.user_id})
    assert response.status_code == 200 and response.context["form"].errors["apps"]
    response = partner_client.post(CONTACTS, {"apps": [mine.pk], "to_user": other_partner_member.user_id})
    assert response.status_code == 200 and response.context["form"].errors["to_user"]

    assert PartnerMember.objects.filter(pk=their_colleague.pk, can_users=False).exists()
    their_invitation.refresh_from_db()
    their_app.refresh_from_db()
    mine.refresh_from_db()
    assert their_invitation.revoked_at is None and their_invitation.token_hash
    assert their_app.technical_contact == other_partner_member.user
    assert mine.technical_contact == partner_member.user


def test_team_page_queries_do_not_grow_with_the_team(partner_client, partner_member,
                                                     django_assert_num_queries):
    partner = partner_member.partner
    partner_client.get(TEAM)  # warm up sessions and caches
    with CaptureQueriesContext(connection) as one:
        response = partner_client.get(TEAM)
    assert len(response.context["members"]) == 1

    for n in range(4):
        helper = colleague(partner)
        AppFactory(partner=partner, technical_contact=helper.user, configured=False)
        invitation_for(partner, f"invitee{n}@example.com", token=f"token-{n}-" + "b" * 40)

    with django_assert_num_queries(len(one.captured_queries)):
        response = partner_client.get(TEAM)
    assert len(response.context["members"]) == 5


# ---------------------------------------------------------------- the invitation link

TOKEN = "invite-" + "z" * 40


def test_anonymous_visitor_is_offered_sign_in_or_sign_up(client, partner_member):
    invitation_for(partner_member.partner, "newbie@example.com", token=TOKEN)

    response = client.get(invitation_url(TOKEN))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Join {partner_member.partner.name}" in html and "newbie@example.com" in html
    assert f'href="/accounts/signup/?invitation={TOKEN}"' in html
    assert "/accounts/login/?next=" in html
    assert client.get(invitation_url("unknown-token")).status_code == 404


def test_signing_up_through_an_invitation_joins_the_partner_without_a_new_company(client, partner_member):
    partner = partner_member.partner
    invitation = invitation_for(partner, "newbie@example.com", token=TOKEN, can_app_store=True)
    partners_before = Partner.objects.count()

    form = client.get(f"/accounts/signup/?invitation={TOKEN}")
    html = form.content.decode()
    assert form.status_code == 200
    assert 'name="company_name"' not in html
    assert 'value="newbie@example.com"' in html and f'value="{TOKEN}"' in html
    assert f"Join {partner.name}" in html

    response = client.post("/accounts/signup/", {
        "invitation": TOKEN, "full_name": "New Bie", "email": "newbie@example.com",
        "password1": PASSPHRASE, "password2": PASSPHRASE})

    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert Partner.objects.count() == partners_before
    user = User.objects.get(email="newbie@example.com")
    member = PartnerMember.objects.get(user=user)
    assert member.partner == partner and member.can_app_store and not member.can_users
    assert client.session[SESSION_KEY] == partner.pk
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert EmailAddress.objects.get(user=user).verified  # the link proved the address
    assert partner.name in client.get("/portal/").content.decode()


def test_signing_up_through_an_invitation_with_another_address_is_refused(client, partner_member):
    invitation_for(partner_member.partner, "newbie@example.com", token=TOKEN)

    response = client.post("/accounts/signup/", {
        "invitation": TOKEN, "full_name": "Someone", "email": "someone-else@example.com",
        "password1": PASSPHRASE, "password2": PASSPHRASE})

    assert response.status_code == 200
    assert "sent to newbie@example.com" in response.context["form"].errors["email"][0]
    assert not User.objects.filter(email="someone-else@example.com").exists()
    assert 'value="Someone"' in response.content.decode()


def test_a_stale_invitation_token_leaves_the_ordinary_company_sign_up(client, partner_member):
    invitation_for(partner_member.partner, "newbie@example.com", token=TOKEN, days=-1)
    html = client.get(f"/accounts/signup/?invitation={TOKEN}").content.decode()
    assert 'name="company_name"' in html and "no longer valid" in html


def test_signed_in_with_the_matching_account_accepts_and_switches_company(client, partner_member):
    partner = partner_member.partner
    user = UserFactory(email="known@example.com")
    own = PartnerMemberFactory(user=user)  # already works in another company
    invitation_for(partner, "known@example.com", token=TOKEN)
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = own.partner_id
    session.save()

    page = client.get(invitation_url(TOKEN))
    assert f"Accept and join {partner.name}" in page.content.decode()
    response = client.post(invitation_url(TOKEN))

    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert PartnerMember.objects.filter(partner=partner, user=user, can_login=True).exists()
    assert client.session[SESSION_KEY] == partner.pk


def test_signed_in_as_someone_else_gets_an_explanation_and_cannot_accept(client, partner_member):
    invitation_for(partner_member.partner, "meant@example.com", token=TOKEN)
    other = UserFactory(email="other@example.com")
    client.force_login(other)

    html = client.get(invitation_url(TOKEN)).content.decode()
    assert "signed in as <strong>other@example.com</strong>" in html
    assert "Accept and join" not in html
    response = client.post(invitation_url(TOKEN))
    assert response.status_code == 200 and "sent to meant@example.com" in response.content.decode()
    assert not PartnerMember.objects.filter(user=other).exists()


@pytest.mark.parametrize("state", ["expired", "revoked", "accepted"])
def test_stale_invitations_explain_why(client, partner_member, state):
    invitation = invitation_for(partner_member.partner, "late@example.com", token=TOKEN)
    user = UserFactory(email="late@example.com")
    if state == "expired":
        invitation.expires_at = timezone.now() - timedelta(hours=1)
    elif state == "revoked":
        invitation.revoked_at = timezone.now()
    else:
        invitation.accepted_at = timezone.now()
    invitation.save()
    client.force_login(user)

    html = client.get(invitation_url(TOKEN)).content.decode()
    reasons = {"expired": "has expired", "revoked": "was withdrawn", "accepted": "already been used"}
    assert reasons[state] in html
    client.post(invitation_url(TOKEN))
    assert not PartnerMember.objects.filter(user=user).exists()


# ---------------------------------------------------------- existing accounts, addresses, stale sign-ups

def test_inviting_an_address_with_an_account_answers_like_any_other_and_adds_nobody(
        partner_client, partner_member, mailoutbox, django_capture_on_commit_callbacks):
    UserFactory(email="known@example.com", full_name="Karin Known")

    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = partner_client.post(TEAM, {"email": email, "can_read": "on"}, follow=True)
        answers.append([str(m) for m in response.context["messages"]])

    assert answers == [["Invitation sent to known@example.com. The link is valid for 14 days."],
                       ["Invitation sent to unknown@example.com. The link is valid for 14 days."]]
    assert not PartnerMember.objects.filter(partner=partner_member.partner,
                                            user__email="known@example.com").exists()
    assert sorted(m.to[0] for m in mailoutbox) == ["known@example.com", "unknown@example.com"]
    html = partner_client.get(TEAM).content.decode()
    invitations = html.split("Open invitations")[1]
    assert "known@example.com" in invitations and "Karin Known" not in html


def test_the_invited_account_signs_in_and_accepts(client, partner_member, mailoutbox,
                                                  django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "http://testserver"
    user = UserFactory(email="known@example.com")
    admin_client = type(client)()
    admin_client.force_login(partner_member.user)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(TEAM, {"email": "known@example.com", "can_read": "on", "can_app_store": "on"})
    link = re.search(r"http://testserver(/portal/invitations/[\w-]+/)", mailoutbox[0].body).group(1)

    page = client.get(link)
    assert "I have an account: sign in" in page.content.decode()
    client.force_login(user)
    response = client.post(link)

    assert response.status_code == 302 and response["Location"] == "/portal/"
    member = PartnerMember.objects.get(partner=partner_member.partner, user=user)
    assert member.can_login and member.can_app_store and not member.can_users


@pytest.mark.parametrize(("address", "message"), [
    ("user@[127.0.0.1]", "not accepted"), ('"two words"@example.com', "like name@example.com")])
def test_invitation_addresses_the_sign_up_form_refuses_are_refused_on_the_field(
        partner_client, address, message):
    response = partner_client.post(TEAM, {"email": address, "can_read": "on"})

    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert len(errors) == 1 and message in errors[0]
    assert not Invitation.objects.exists()


def test_invitation_pages_keep_the_token_from_other_sites_but_let_the_browser_send_origin(
        client, partner_member):
    invitation_for(partner_member.partner, "newbie@example.com", token=TOKEN)

    for url in (invitation_url(TOKEN), f"/accounts/signup/?invitation={TOKEN}"):
        html = client.get(url).content.decode()
        assert '<meta name="referrer" content="same-origin">' in html, url
        assert "no-referrer" not in html, url


@pytest.mark.parametrize("change", ["revoked", "expired", "resent"])
def test_an_invitation_that_went_stale_while_signing_up_says_so(client, partner_member, change):
    partner = partner_member.partner
    invitation = invitation_for(partner, "newbie@example.com", token=TOKEN)
    assert 'name="company_name"' not in client.get(f"/accounts/signup/?invitation={TOKEN}").content.decode()
    if change == "revoked":
        invitation.revoked_at = timezone.now()
    elif change == "expired":
        invitation.expires_at = timezone.now() - timedelta(minutes=1)
    else:
        invitation.token_hash = hashlib.sha256(b"a-new-link").hexdigest()
    invitation.save()
    partners = Partner.objects.count()

    response = client.post("/accounts/signup/", {
        "invitation": TOKEN, "full_name": "New Bie", "email": "newbie@example.com",
        "password1": PASSPHRASE, "password2": PASSPHRASE})

    assert response.status_code == 200
    html = response.content.decode()
    assert "No account was created: the invitation is no longer valid." in html
    reasons = {"revoked": f"withdrawn by {partner.name}", "expired": "has expired",
               "resent": "sent again with a new link"}
    assert reasons[change] in html
    assert "This field is required" not in html and not response.context["form"].errors
    assert 'value="New Bie"' in html and 'value="newbie@example.com"' in html
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert Partner.objects.count() == partners

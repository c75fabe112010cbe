"""Partner API tokens: shown once, kept as a hash, revocable; the Bearer authentication."""

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from appstore.models import PartnerApiToken
from appstore.services.api_tokens import create_api_token, revoke_api_token
from audit.models import AuditEntry

from ..factories import AppFactory, PartnerMemberFactory, api_token

pytestmark = pytest.mark.django_db

APPS_URL = "/api/v1/apps/"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def all_column_values(token: PartnerApiToken) -> list[str]:
    return [str(getattr(token, f.attname)) for f in PartnerApiToken._meta.concrete_fields]


# ---------------------------------------------------------------- service


def test_token_is_stored_as_a_hash_only(partner_member):
    token, raw = create_api_token(actor=partner_member.user, partner=partner_member.partner,
                                  name="  CI   deploy ")
    assert raw.startswith("pat_") and len(raw) > 40
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12]
    assert token.name == "CI deploy"
    assert not any(raw in value for value in all_column_values(token))
    assert token.created_by == partner_member.user and token.partner == partner_member.partner


def test_two_tokens_differ(partner_member):
    assert api_token(partner_member) != api_token(partner_member)


def test_creation_is_audited_without_the_token(partner_member):
    token, raw = create_api_token(actor=partner_member.user, partner=partner_member.partner, name="CI")
    entry = AuditEntry.objects.get(event_type="api_token_created")
    assert entry.partner_id == partner_member.partner_id and entry.actor == partner_member.user
    assert "CI" in entry.message
    dumped = f"{entry.message} {entry.changes} {entry.subject}"
    assert raw not in dumped and token.token_hash not in dumped and raw[4:12] not in dumped


def test_creating_needs_login_in_that_partner(partner_member, other_partner_member):
    with pytest.raises(PermissionDenied):
        create_api_token(actor=partner_member.user, partner=other_partner_member.partner, name="x")
    locked = PartnerMemberFactory(can_login=False)
    with pytest.raises(PermissionDenied):
        create_api_token(actor=locked.user, partner=locked.partner, name="x")
    assert not PartnerApiToken.objects.exists()


def test_a_name_is_required(partner_member):
    with pytest.raises(ValidationError) as exc:
        create_api_token(actor=partner_member.user, partner=partner_member.partner, name="   ")
    assert "name" in exc.value.message_dict


def test_revoke_by_creator_or_users_permission(partner_member):
    colleague = PartnerMemberFactory(partner=partner_member.partner, can_users=False)
    token, _ = create_api_token(actor=partner_member.user, partner=partner_member.partner, name="a")
    with pytest.raises(PermissionDenied):
        revoke_api_token(actor=colleague.user, token=token)
    own, _ = create_api_token(actor=colleague.user, partner=partner_member.partner, name="b")
    revoke_api_token(actor=colleague.user, token=own)
    revoke_api_token(actor=partner_member.user, token=token)  # partner_member has "users"
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == partner_member.user
    assert AuditEntry.objects.filter(event_type="api_token_revoked").count() == 2
    with pytest.raises(ValidationError):
        revoke_api_token(actor=partner_member.user, token=token)


# ---------------------------------------------------------------- authentication


def test_a_valid_token_authenticates_as_its_creator(partner_member):
    AppFactory(partner=partner_member.partner, name="Mine")
    response = bearer(api_token(partner_member)).get(APPS_URL)
    assert response.status_code == 200
    assert [app["name"] for app in response.json()["results"]] == ["Mine"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer pat_nope", "Bearer a b", "Token x"])
def test_missing_or_wrong_token_is_401_json(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(APPS_URL)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def failure(response) -> dict:
    assert response.status_code == 401
    return response.json()


def test_revoked_token_is_401(partner_member):
    token, raw = create_api_token(actor=partner_member.user, partner=partner_member.partner, name="a")
    client = bearer(raw)
    assert client.get(APPS_URL).status_code == 200
    revoke_api_token(actor=partner_member.user, token=token)
    assert failure(client.get(APPS_URL)) == failure(bearer("pat_unknown").get(APPS_URL))


def test_token_stops_when_creator_leaves_or_loses_login(partner_member):
    raw = api_token(partner_member)
    client = bearer(raw)
    assert client.get(APPS_URL).status_code == 200
    partner_member.can_login = False
    partner_member.save()
    lost_login = failure(client.get(APPS_URL))
    partner_member.can_login = True
    partner_member.save()
    assert client.get(APPS_URL).status_code == 200
    partner_member.delete()
    removed = failure(client.get(APPS_URL))
    # One message for every failure: a caller cannot tell which part failed.
    assert lost_login == removed == failure(bearer("pat_unknown").get(APPS_URL))
    assert removed["code"] == "authentication_failed"


def test_token_of_deactivated_account_is_401(partner_member):
    client = bearer(api_token(partner_member))
    partner_member.user.is_active = False
    partner_member.user.save()
    assert client.get(APPS_URL).status_code == 401


def test_current_flags_count_not_those_at_creation(partner_member):
    client = bearer(api_token(partner_member))
    partner_member.can_read = False
    partner_member.save()
    response = client.get(APPS_URL)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "'read'" in response.json()["detail"]


def test_last_used_is_written_at_most_once_a_minute(partner_member):
    token, raw = create_api_token(actor=partner_member.user, partner=partner_member.partner, name="a")
    client = bearer(raw)
    assert token.last_used_at is None
    client.get(APPS_URL)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(APPS_URL)
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = timezone.now() - timedelta(minutes=2)
    PartnerApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get(APPS_URL)
    token.refresh_from_db()
    assert token.last_used_at > earlier + timedelta(minutes=1)


def test_a_session_does_not_authenticate_the_api(partner_client):
    assert partner_client.get(APPS_URL).status_code == 401


# ---------------------------------------------------------------- portal page

PAGE = "/portal/api-tokens/"


def test_page_shows_the_token_once_and_never_stores_it(partner_client, partner_member, caplog):
    caplog.set_level(logging.DEBUG)
    response = partner_client.post("/portal/api-tokens/new/", {"name": "Build server"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = PartnerApiToken.objects.get()
    html = response.content.decode()
    raw = html.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert raw.startswith("pat_") and html.count(raw) == 1
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert "will not be shown again" in html
    # Not in the session, messages, audit, logs, or any later page.
    session = partner_client.session
    assert all(raw not in str(session[key]) for key in session.keys())
    assert raw not in caplog.text
    assert not any(raw in str(m) for m in response.context["messages"])
    assert not AuditEntry.objects.filter(message__contains=raw).exists()
    later = partner_client.get(PAGE)
    assert raw not in later.content.decode()
    assert token.prefix in later.content.decode()
    assert "no-store" in later["Cache-Control"]


def test_page_form_error_names_the_field(partner_client):
    response = partner_client.post("/portal/api-tokens/new/", {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not PartnerApiToken.objects.exists()


def test_members_see_their_own_tokens_users_see_all(client, partner_member):
    colleague = PartnerMemberFactory(partner=partner_member.partner, can_users=False)
    create_api_token(actor=partner_member.user, partner=partner_member.partner, name="Admin token")
    create_api_token(actor=colleague.user, partner=partner_member.partner, name="Colleague token")
    outsider = PartnerMemberFactory()
    create_api_token(actor=outsider.user, partner=outsider.partner, name="Outsider token")

    client.force_login(colleague.user)
    page = client.get(PAGE).content.decode()
    assert "Colleague token" in page and "Admin token" not in page and "Outsider token" not in page

    client.force_login(partner_member.user)
    page = client.get(PAGE).content.decode()
    assert "Colleague token" in page and "Admin token" in page and "Outsider token" not in page
    assert colleague.user.email in page


def test_revoke_from_the_page(client, partner_member):
    colleague = PartnerMemberFactory(partner=partner_member.partner, can_users=False)
    admin_token, _ = create_api_token(actor=partner_member.user, partner=partner_member.partner,
                                      name="Admin token")
    colleague_token, _ = create_api_token(actor=colleague.user, partner=partner_member.partner,
                                          name="Colleague token")
    client.force_login(colleague.user)
    # Another member's token is not even visible to a member without "users".
    assert client.post(f"/portal/api-tokens/{admin_token.pk}/revoke/").status_code == 404
    client.force_login(partner_member.user)
    response = client.post(f"/portal/api-tokens/{colleague_token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == PAGE
    colleague_token.refresh_from_db()
    admin_token.refresh_from_db()
    assert colleague_token.revoked_by == partner_member.user and admin_token.revoked_at is None
    assert "Revoked" in client.get(PAGE).content.decode()


def test_another_partners_token_cannot_be_revoked(client, partner_member, other_partner_member):
    theirs, _ = create_api_token(actor=other_partner_member.user, partner=other_partner_member.partner,
                                 name="Theirs")
    client.force_login(partner_member.user)
    assert client.post(f"/portal/api-tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoke_needs_post(partner_client, partner_member):
    token, _ = create_api_token(actor=partner_member.user, partner=partner_member.partner, name="a")
    assert partner_client.get(f"/portal/api-tokens/{token.pk}/revoke/").status_code == 405


def status_cell(html: str, name: str) -> str:
    """The text of the Status column in the table row of the token called ``name``."""
    row = next(r for r in html.split("<tr>") if f'<td class="token-name">{name}</td>' in r)
    cells = row.split("<td")
    status = cells[-2]  # the cell before Actions
    return " ".join(re.sub(r"<[^>]+>", " ", status.split(">", 1)[1]).split())


def test_tokens_whose_creator_cannot_sign_in_show_as_inactive(client, partner_member):
    """The page says what the API does: a token works only while its creator may sign in."""
    partner = partner_member.partner
    people = {name: PartnerMemberFactory(partner=partner, can_users=False)
              for name in ("Staying", "Left", "Locked", "Deactivated", "Left revoked")}
    raw = {name: api_token(member, name=name) for name, member in people.items()}
    revoke_api_token(actor=partner_member.user,
                     token=PartnerApiToken.objects.get(name="Left revoked"))
    people["Left"].delete()
    people["Left revoked"].delete()
    people["Locked"].can_login = False
    people["Locked"].save()
    people["Deactivated"].user.is_active = False
    people["Deactivated"].user.save()

    client.force_login(partner_member.user)
    html = client.get(PAGE).content.decode()
    assert status_cell(html, "Staying") == "Active"
    assert status_cell(html, "Left") == "Inactive Its creator is no longer a member."
    for name in ("Locked", "Deactivated"):
        assert status_cell(html, name) == (f"Inactive Its creator may no longer sign in to "
                                           f"{partner.name}.")
    assert status_cell(html, "Left revoked").startswith("Revoked")
    # The page agrees with the API.
    for name in ("Staying", "Left", "Locked", "Deactivated", "Left revoked"):
        works = bearer(raw[name]).get(APPS_URL).status_code == 200
        assert works == (status_cell(html, name) == "Active"), name
    # An inactive token can still be revoked, so it cannot come back if its creator returns.
    assert 'aria-label="Revoke token Left"' in html
    assert 'aria-label="Revoke token Left revoked"' not in html


def test_token_page_query_count_does_not_grow_with_tokens(client, partner_member,
                                                         django_assert_num_queries):
    partner = partner_member.partner
    api_token(partner_member, name="Own")
    client.force_login(partner_member.user)
    with CaptureQueriesContext(connection) as one_token:
        assert client.get(PAGE).status_code == 200
    for n in range(6):
        member = PartnerMemberFactory(partner=partner, can_users=False)
        api_token(member, name=f"Token {n}")
        if n % 3 == 0:
            member.delete()
        elif n % 3 == 1:
            member.can_login = False
            member.save()
    with django_assert_num_queries(len(one_token)):
        html = client.get(PAGE).content.decode()
    assert html.count("Inactive") == 4 and "Token 5" in html


def test_new_token_reveal_takes_the_focus(partner_client):
    html = partner_client.post("/portal/api-tokens/new/", {"name": "Build server"}).content.decode()
    reveal = html.split('id="token-reveal"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<button[^>]*data-copy="#new-token"[^>]*autofocus', reveal)
    assert html.count("autofocus") == 1
    assert "autofocus" not in partner_client.get(PAGE).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_new_token_is_in_view_and_focused_on_a_phone(live_server, partner_member, monkeypatch):
    """At 390 px the reveal box sat below the fold; the page now scrolls to it and focuses Copy."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM

    session = Client()
    session.force_login(partner_member.user)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                                  "value": session.cookies[settings.SESSION_COOKIE_NAME].value}])
            page = context.new_page()
            page.goto(live_server.url + PAGE)
            page.get_by_label("Token name").fill("Build server")
            page.get_by_role("button", name="Create token").click()
            page.wait_for_load_state()
            box = page.locator("#token-reveal").bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box
            assert page.evaluate("document.activeElement.dataset.copy") == "#new-token"
            assert page.evaluate("window.scrollY") > 0
        finally:
            browser.close()

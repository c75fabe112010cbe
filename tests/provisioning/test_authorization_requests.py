"""Custom-app authorization: the partner requests, staff activate or reject, the customer confirms or
refuses through a one-time link, and the tenant's users then sign in without a consent screen."""

import hashlib
import logging
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from accounts.services import ensure_user
from appstore.models import AuthorizationLevel, ConfigurationVersion, PartnerMember, VersionState
from audit.models import AuditEntry
from config.logging import RedactSecretPaths
from provisioning.models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestState,
    AuthorizationStatus,
)
from provisioning.services import requests as services
from provisioning.services.authorizations import uninstall
from provisioning.tasks import (
    notify_authorization_decided,
    notify_authorization_requested,
    send_authorization_confirmation,
)

from ..factories import AppFactory, PartnerMemberFactory, TenantMemberFactory, environment
from .conftest import (
    PATTERN,
    POST_LOGOUT,
    REDIRECT,
    LoginApp,
    authorize_url,
    query_of,
    register_app,
    tenant_with_people,
)

pytestmark = pytest.mark.django_db

CONSENT = "Acme Custom reads your orders and writes invoices back."
LINK = re.compile(r"/my/confirm-authorization/([A-Za-z0-9_-]+)/")


def custom_app(*, envs=("stage", "online"), name=None) -> LoginApp:
    """A custom app whose client is registered in online, live at the Explicit level in ``envs``."""
    login = register_app(authorization_level="explicit", env="online", name=name)
    app = login.app
    member = PartnerMember.objects.get(partner=app.partner)
    app.is_custom = True
    app.technical_contact = member.user
    app.customer_name, app.customer_context_identifier = "Nordic Tools AS", "Cust40001"
    app.save()
    for code in envs:
        ConfigurationVersion.objects.create(
            app=app, environment=environment(code), label="1.1", state=VersionState.PUBLISHED,
            published_at=timezone.now(), authorization_level=AuthorizationLevel.EXPLICIT,
            redirect_urls={"all": [REDIRECT, PATTERN]}, post_logout_redirect_urls={"all": [POST_LOGOUT]},
            consent_text=CONSENT, api_endpoints=["WebAPI"], agents=["Webhook"], claims=["SystemToken"])
    return login


def member_of(login: LoginApp) -> PartnerMember:
    """The partner's first member, who registered the app and is its technical contact."""
    return PartnerMember.objects.get(partner=login.app.partner, user=login.app.technical_contact)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_url(login: LoginApp) -> str:
    return f"/portal/apps/{login.app.pk}/authorization/"


def request_data(**overrides) -> dict:
    return {"environment": "online", "customer_name": "Nordic Tools AS", "context_identifier": "Cust40001",
            "contact_email": "it@nordictools.example.com", "note": "Go-live next Monday.", **overrides}


def send_request(client: Client, login: LoginApp, capture, **overrides):
    with capture(execute=True):
        return client.post(portal_url(login), request_data(**overrides))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the e-mail tasks) when the block ends."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def staff(app_manager) -> Client:
    return signed_in(app_manager)


def activate(staff: Client, req: AuthorizationRequest, capture):
    with capture(execute=True):
        return staff.post(f"/review/authorization-requests/{req.pk}/activate/")


def link_token() -> str:
    """The confirmation token of the last e-mail that carried one."""
    tokens = [match.group(1) for message in mail.outbox if (match := LINK.search(message.body))]
    assert tokens, "no confirmation link was sent"
    return tokens[-1]


def waiting_request(login: LoginApp, ctx: str = "Cust40001", env: str = "online") -> AuthorizationRequest:
    return services.request_authorization(
        actor=member_of(login).user, app=login.app, environment=env, customer_name="Nordic Tools AS",
        context_identifier=ctx, contact_email="it@nordictools.example.com")


def events(event_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type=event_type))


# ---------------------------------------------------------------- the whole path

def test_request_activate_confirm_then_members_sign_in_without_consent(
        client, app_manager, staff, commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    partner = signed_in(member_of(login).user)

    # Before: nobody in the tenant may approve the custom app themselves.
    client.force_login(people.admin.user)
    assert client.get(authorize_url(login, env="online")).status_code == 403

    page = partner.get(portal_url(login))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="Nordic Tools AS"' in body and 'value="Cust40001"' in body
    form = page.context["form"]
    assert [code for code, _ in form.fields["environment"].choices] == ["stage", "online"]
    assert form.initial["environment"] == "online"

    response = send_request(partner, login, commit)
    assert response.status_code == 302 and response["Location"] == portal_url(login)
    req = AuthorizationRequest.objects.get()
    assert (req.state, req.environment.code, req.context_identifier, req.contact_email, req.note) == (
        AuthorizationRequestState.REQUESTED, "online", "Cust40001", "it@nordictools.example.com",
        "Go-live next Monday.")
    assert req.requested_by == member_of(login).user
    [to_staff] = mail.outbox
    assert to_staff.to == ["reviewer@example.com"]
    assert f"/review/authorization-requests/{req.pk}/" in to_staff.body and "Cust40001" in to_staff.body
    [requested] = events("authorization.requested")
    assert (requested.source, requested.app_id, requested.partner_id, requested.tenant_id) == (
        AuditEntry.Source.PORTAL, login.app.pk, login.app.partner_id, people.tenant.pk)

    queue = staff.get("/review/authorization-requests/")
    assert queue.status_code == 200 and f"/review/authorization-requests/{req.pk}/" in queue.content.decode()
    detail = staff.get(f"/review/authorization-requests/{req.pk}/").content.decode()
    assert people.tenant.company_name in detail and "Running" in detail
    assert people.admin.user.email in detail and people.member.user.email not in detail

    response = activate(staff, req, commit)
    assert response.status_code == 302 and response["Location"] == "/review/authorization-requests/"
    authorization = Authorization.objects.get(app=login.app, tenant=people.tenant)
    assert authorization.activated_by == app_manager and authorization.approved_by is None
    assert authorization.status == AuthorizationStatus.ACTIVE and authorization.approved_at is not None
    assert authorization.consent_text == CONSENT
    assert authorization.system_user_token.startswith(f"{login.app.name}-")
    req.refresh_from_db()
    assert (req.state, req.decided_by, req.authorization) == (
        AuthorizationRequestState.ACTIVATED, app_manager, authorization)
    token = link_token()
    assert req.confirmation_checksum == hashlib.sha256(token.encode()).hexdigest()
    to_customer = next(m for m in mail.outbox if m.to == ["it@nordictools.example.com"])
    to_partner = next(m for m in mail.outbox[1:] if m.to == [member_of(login).user.email])
    assert "activated" in to_partner.subject and token not in to_partner.body
    assert people.tenant.company_name in to_customer.body
    [activated] = events("authorization.activated")
    assert activated.source == AuditEntry.Source.REVIEW and token not in activated.message

    # Staff activation is what the login service checks: a plain member signs in, no consent screen.
    client.force_login(people.member.user)
    response = client.get(authorize_url(login, env="online"))
    assert response.status_code == 302 and response["Location"].startswith(REDIRECT + "?code=")
    tokens = client.post("/online/login/common/oauth/tokens", {
        "grant_type": "authorization_code", "code": query_of(response["Location"])["code"],
        "redirect_uri": REDIRECT, "client_id": login.client_id, "client_secret": login.secret}).json()
    assert tokens["access_token"].startswith("8A:Cust40001.")

    admin = signed_in(people.admin.user)
    page = admin.get(f"/my/confirm-authorization/{token}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert login.app.name in body and login.app.partner.name in body and "Cust40001" in body
    assert "Act as a system user" in body and 'value="confirm"' in body
    with commit(execute=True):
        done = admin.post(f"/my/confirm-authorization/{token}/", {"action": "confirm"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    req.refresh_from_db()
    assert req.state == AuthorizationRequestState.CONFIRMED and req.confirmed_at is not None
    assert req.confirmation_checksum == ""
    [confirmed] = events("authorization.confirmed")
    assert (confirmed.source, confirmed.actor, confirmed.tenant_id) == (
        AuditEntry.Source.CONSENT, people.admin.user, people.tenant.pk)
    assert any("confirmed" in m.subject for m in mail.outbox if m.to == [member_of(login).user.email])

    # The link worked once.
    again = admin.get(f"/my/confirm-authorization/{token}/")
    assert again.status_code == 404 and "not valid" in again.content.decode()
    assert admin.post(f"/my/confirm-authorization/{token}/", {"action": "confirm"}).status_code == 404

    # The partner's page shows the outcome.
    listed = partner.get(portal_url(login)).content.decode()
    assert "Confirmed by the customer" in listed

    # No e-mail carries a secret; only the customer's carries the link.
    for message in mail.outbox:
        text = message.subject + message.body
        assert login.secret not in text and authorization.system_user_token not in text
        assert (token in text) == (message.to == ["it@nordictools.example.com"])


def test_stage_request_activates_in_stage(staff, commit):
    login = custom_app(envs=("stage",))
    people = tenant_with_people("Cust40001", env="stage")
    partner = signed_in(member_of(login).user)
    assert send_request(partner, login, commit, environment="stage").status_code == 302
    req = AuthorizationRequest.objects.get()
    activate(staff, req, commit)
    assert Authorization.objects.get(tenant=people.tenant).activated_by is not None


# ---------------------------------------------------------------- the partner's form

def test_validation_errors_are_shown_on_the_fields(commit):
    login = custom_app(envs=("stage",))
    partner = signed_in(member_of(login).user)
    response = send_request(partner, login, commit, environment="online",
                            customer_name="  ", context_identifier="Cust１２３",
                            contact_email="not-an-address", note="x" * 2001)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"environment", "customer_name", "context_identifier", "contact_email", "note"}
    body = response.content.decode()
    assert 'id="id_context_identifier_error"' in body and "Cust followed by digits" in body
    assert "Not sent: correct these fields." in body
    assert not AuthorizationRequest.objects.exists() and mail.outbox == []


def test_service_validates_what_the_form_does_not_see():
    login = custom_app(envs=("online",))
    member = member_of(login)
    with pytest.raises(services.ValidationError) as caught:
        services.request_authorization(actor=member.user, app=login.app, environment="stage",
                                       customer_name="A" * 201, context_identifier="Cust١٢",
                                       contact_email="a@b.example.com", note="")
    assert set(caught.value.error_dict) == {"environment", "customer_name", "context_identifier"}


def test_app_without_explicit_configuration_explains_why_nothing_can_be_requested(
        commit):
    login = custom_app(envs=())
    partner = signed_in(member_of(login).user)
    page = partner.get(portal_url(login))
    assert page.status_code == 200 and "no configuration at the Explicit level" in page.content.decode()
    response = send_request(partner, login, commit)
    assert response.status_code == 400 and "nothing to activate" in response.content.decode()
    assert not AuthorizationRequest.objects.exists()


def test_standard_apps_have_no_authorization_page(partner_member):
    app = AppFactory(partner=partner_member.partner)
    partner = signed_in(partner_member.user)
    assert partner.get(f"/portal/apps/{app.pk}/authorization/").status_code == 404
    assert "/authorization/" not in partner.get(f"/portal/apps/{app.pk}/").content.decode()


def test_custom_app_page_links_to_the_authorization_page():
    login = custom_app()
    page = signed_in(member_of(login).user).get(f"/portal/apps/{login.app.pk}/")
    assert portal_url(login) in page.content.decode()


def test_second_open_request_for_the_same_tenant_is_refused(commit):
    login = custom_app()
    partner = signed_in(member_of(login).user)
    assert send_request(partner, login, commit).status_code == 302
    again = send_request(partner, login, commit)
    assert again.status_code == 400
    assert "already waiting" in again.context["form"].errors["context_identifier"][0]
    # Another environment or another tenant is a different request.
    assert send_request(partner, login, commit, environment="stage").status_code == 302
    assert send_request(partner, login, commit,
                        context_identifier="Cust40002").status_code == 302
    assert AuthorizationRequest.objects.count() == 3
    assert len(events("authorization.requested")) == 3


def test_tenant_already_activated_is_refused(staff, commit):
    login = custom_app()
    tenant_with_people("Cust40001", env="online")
    activate(staff, waiting_request(login), commit)
    again = send_request(signed_in(member_of(login).user), login, commit)
    assert again.status_code == 400
    assert "already activated" in again.context["form"].errors["context_identifier"][0]


def test_partner_withdraws_a_waiting_request_only():
    login = custom_app()
    partner = signed_in(member_of(login).user)
    req = waiting_request(login)
    response = partner.post(f"{portal_url(login)}{req.pk}/withdraw/")
    assert response.status_code == 302 and not AuthorizationRequest.objects.exists()
    [withdrawn] = events("authorization.withdrawn")
    assert withdrawn.actor == member_of(login).user and "Cust40001" in withdrawn.message

    decided = waiting_request(login)
    services.reject_request(actor=ensure_user(email="r@example.com", password="x" * 12, is_staff=True,
                                              app_manager=True),
                            authorization_request=decided, reason="Unknown customer.")
    response = partner.post(f"{portal_url(login)}{decided.pk}/withdraw/", follow=True)
    assert "no longer waiting" in response.content.decode()
    assert AuthorizationRequest.objects.get().state == AuthorizationRequestState.REJECTED


# ---------------------------------------------------------------- permissions and isolation

def test_member_without_configuration_permission_is_refused(commit):
    login = custom_app()
    reader = PartnerMemberFactory(partner=login.app.partner, can_configuration=False)
    client = signed_in(reader.user)
    assert client.get(portal_url(login)).status_code == 403
    assert send_request(client, login, commit).status_code == 403
    req = waiting_request(login)
    assert client.post(f"{portal_url(login)}{req.pk}/withdraw/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.request_authorization(actor=reader.user, app=login.app, **request_data())
    with pytest.raises(PermissionDenied):
        services.withdraw_request(actor=reader.user, authorization_request=req)
    assert AuthorizationRequest.objects.count() == 1


def test_two_partners_are_isolated(commit):
    first, second = custom_app(), custom_app()
    first_req = waiting_request(first, ctx="Cust40001")
    second_req = waiting_request(second, ctx="Cust40002")
    other = signed_in(member_of(second).user)
    assert other.get(portal_url(first)).status_code == 404
    assert send_request(other, first, commit).status_code == 404
    assert other.post(f"{portal_url(first)}{first_req.pk}/withdraw/").status_code == 404
    # Nor through its own app's URL.
    assert other.post(f"{portal_url(second)}{first_req.pk}/withdraw/").status_code == 404
    listed = other.get(portal_url(second)).content.decode()
    assert "Cust40002" in listed and "Cust40001" not in listed.replace('value="Cust40001"', "")
    with pytest.raises(PermissionDenied):
        services.withdraw_request(actor=member_of(second).user, authorization_request=first_req)
    assert AuthorizationRequest.objects.filter(pk__in=[first_req.pk, second_req.pk]).count() == 2


def test_review_pages_are_for_app_managers_only(client):
    login = custom_app()
    req = waiting_request(login)
    tenant_with_people("Cust40001", env="online")
    urls = ["/review/authorization-requests/", f"/review/authorization-requests/{req.pk}/"]
    posts = [f"/review/authorization-requests/{req.pk}/activate/",
             f"/review/authorization-requests/{req.pk}/reject/"]
    for url in urls:
        assert client.get(url)["Location"].startswith("/accounts/login/")
    plain_staff = ensure_user(email="ops@example.com", password="x" * 12, is_staff=True)
    for user in (member_of(login).user, plain_staff):
        other = signed_in(user)
        assert all(other.get(url).status_code == 403 for url in urls)
        assert all(other.post(url, {"reason": "no"}).status_code == 403 for url in posts)
    with pytest.raises(PermissionDenied):
        services.activate_request(actor=plain_staff, authorization_request=req)
    req.refresh_from_db()
    assert req.state == AuthorizationRequestState.REQUESTED and not Authorization.objects.exists()


def test_waiting_requests_count_in_the_review_badge(staff, commit):
    from appstore.selectors.review import pending_request_count

    before = pending_request_count()
    req = waiting_request(custom_app())
    assert pending_request_count() == before + 1
    assert f'Review <span class="badge">{before + 1}</span>' in staff.get("/review/").content.decode()
    tenant_with_people("Cust40001", env="online")
    activate(staff, req, commit)
    assert pending_request_count() == before


# ---------------------------------------------------------------- staff decisions

def test_reject_needs_a_reason_and_tells_the_technical_contact(staff, app_manager,
                                                               commit):
    login = custom_app()
    req = waiting_request(login)
    url = f"/review/authorization-requests/{req.pk}/reject/"
    response = staff.post(url, {"reason": "   "})
    assert response.status_code == 400 and "Say why the request is rejected" in response.content.decode()
    req.refresh_from_db()
    assert req.state == AuthorizationRequestState.REQUESTED
    with commit(execute=True):
        response = staff.post(url, {"reason": "Cust40001 belongs to another company."})
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.state, req.decided_by, req.decision_reason) == (
        AuthorizationRequestState.REJECTED, app_manager, "Cust40001 belongs to another company.")
    [message] = mail.outbox
    assert message.to == [member_of(login).user.email] and "belongs to another company" in message.body
    [rejected] = events("authorization.rejected")
    assert rejected.source == AuditEntry.Source.REVIEW and rejected.actor == app_manager
    partner_page = signed_in(member_of(login).user).get(portal_url(login)).content.decode()
    assert "belongs to another company" in partner_page
    assert staff.post(f"/review/authorization-requests/{req.pk}/activate/").status_code == 302
    assert not Authorization.objects.exists()


def test_activation_fails_clearly_when_the_tenant_does_not_exist(staff, commit):
    login = custom_app()
    tenant_with_people("Cust40001", env="stage")  # same identifier, other environment
    req = waiting_request(login)
    detail = staff.get(f"/review/authorization-requests/{req.pk}/").content.decode()
    assert "There is no tenant" in detail
    with commit(execute=True):
        response = staff.post(f"/review/authorization-requests/{req.pk}/activate/", follow=True)
    assert "Not activated: There is no tenant Cust40001 in online" in response.content.decode()
    req.refresh_from_db()
    assert req.state == AuthorizationRequestState.REQUESTED and req.confirmation_checksum == ""
    assert not Authorization.objects.exists() and mail.outbox == []
    assert not events("authorization.activated")


def test_activation_reactivates_a_revoked_authorization_keeping_its_system_user(
        staff, app_manager, commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    activate(staff, waiting_request(login), commit)
    first = Authorization.objects.get()
    uninstall(authorization=first, user=people.admin.user)
    again = waiting_request(login)
    activate(staff, again, commit)
    reactivated = Authorization.objects.get()
    assert reactivated.pk == first.pk and reactivated.system_user_token == first.system_user_token
    assert reactivated.status == AuthorizationStatus.ACTIVE and reactivated.revoked_at is None
    assert reactivated.activated_by == app_manager and reactivated.approved_by is None


# ---------------------------------------------------------------- the customer

def test_only_an_admin_of_that_tenant_may_answer(client, staff, commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    elsewhere = tenant_with_people("Cust40009", env="online")
    activate(staff, waiting_request(login), commit)
    token = link_token()
    url = f"/my/confirm-authorization/{token}/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    for user in (people.member.user, elsewhere.admin.user, member_of(login).user):
        other = signed_in(user)
        page = other.get(url)
        assert page.status_code == 403 and "Only an administrator of" in page.content.decode()
        assert other.post(url, {"action": "confirm"}).status_code == 403
        assert other.post(url, {"action": "refuse"}).status_code == 403
    req = AuthorizationRequest.objects.get()
    assert req.state == AuthorizationRequestState.ACTIVATED and req.confirmation_checksum
    assert Authorization.objects.get().status == AuthorizationStatus.ACTIVE
    # A user administrator counts as a tenant admin too.
    user_admin = TenantMemberFactory(tenant=people.tenant, is_user_administrator=True)
    assert signed_in(user_admin.user).get(url).status_code == 200


def test_unknown_link_is_not_valid(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    for token in ("no-such-token", "x" * 300):
        response = client.get(f"/my/confirm-authorization/{token}/")
        assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    assert client.post("/my/confirm-authorization/no-such-token/", {"action": "confirm"}).status_code == 404


def test_customer_refuses_and_the_app_is_uninstalled(client, staff, commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    activate(staff, waiting_request(login), commit)
    token = link_token()
    mail.outbox.clear()
    admin = signed_in(people.admin.user)
    with commit(execute=True):
        done = admin.post(f"/my/confirm-authorization/{token}/", {"action": "refuse"})
    assert done.status_code == 200 and "was uninstalled" in done.content.decode()
    authorization = Authorization.objects.get()
    assert authorization.status == AuthorizationStatus.REVOKED
    assert authorization.revoked_by == people.admin.user
    req = AuthorizationRequest.objects.get()
    assert req.state == AuthorizationRequestState.REJECTED
    assert "Refused by the customer" in req.decision_reason
    assert events("authorization.refused") and events("app.uninstalled")
    assert any("refused" in m.subject for m in mail.outbox if m.to == [member_of(login).user.email])
    client.force_login(people.member.user)
    assert client.get(authorize_url(login, env="online")).status_code == 403
    assert admin.get(f"/my/confirm-authorization/{token}/").status_code == 404


def test_confirming_after_an_uninstall_says_there_is_nothing_to_confirm(staff,
                                                                        commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    activate(staff, waiting_request(login), commit)
    token = link_token()
    uninstall(authorization=Authorization.objects.get(), user=people.admin.user)
    admin = signed_in(people.admin.user)
    assert 'value="confirm"' not in admin.get(f"/my/confirm-authorization/{token}/").content.decode()
    response = admin.post(f"/my/confirm-authorization/{token}/", {"action": "confirm"})
    assert response.status_code == 409 and "nothing to" in response.content.decode()
    assert AuthorizationRequest.objects.get().state == AuthorizationRequestState.ACTIVATED


def test_confirmation_links_are_redacted_from_log_lines():
    for line in ('"GET /my/confirm-authorization/AbC_secret-123/ HTTP/1.1" 200',
                 '"GET /accounts/login/?next=%2Fmy%2Fconfirm-authorization%2FAbC_secret-123%2F HTTP/1.1"'):
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
        RedactSecretPaths().filter(record)
        assert "AbC_secret-123" not in record.getMessage() and "[token]" in record.getMessage()


def test_a_late_or_retried_mail_task_sends_nothing_once_the_request_moved_on(staff, commit):
    login = custom_app()
    people = tenant_with_people("Cust40001", env="online")
    withdrawn = waiting_request(login)
    services.withdraw_request(actor=member_of(login).user, authorization_request=withdrawn)
    assert notify_authorization_requested.delay(withdrawn.pk).get() == 0
    req = waiting_request(login)
    activate(staff, req, commit)
    token = link_token()
    assert send_authorization_confirmation.delay(req.pk, "not-the-token").get() == 0
    services.confirm_activation(actor=people.admin.user, token=token)
    mail.outbox.clear()
    assert send_authorization_confirmation.delay(req.pk, token).get() == 0
    assert notify_authorization_decided.delay(req.pk, "activated").get() == 0
    assert notify_authorization_decided.delay(req.pk, "confirmed").get() == 1
    assert [m.to for m in mail.outbox] == [[member_of(login).user.email]]


def test_activation_installs_like_an_approval_counts_and_notifies_the_app(staff, commit, receiver):
    from tenants.signals import ChangeType

    login = custom_app()
    ConfigurationVersion.objects.filter(app=login.app, environment__code="online").update(
        endpoints={"state_change": {"url": f"{receiver.url}/hook", "enabled": True,
                                    "send_error_emails": False}})
    req = waiting_request(login)
    tenant_with_people("Cust40001", env="online")
    assert activate(staff, req, commit).status_code == 302
    login.app.refresh_from_db()
    assert login.app.install_count == 1
    [posted] = receiver.posts_to("/hook")
    assert posted.json()["ChangeType"] == ChangeType.INSTALLED
    assert posted.json()["ContextIdentifier"] == "Cust40001"

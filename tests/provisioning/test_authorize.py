"""The authorize endpoint: tenant pick, consent, refusals with the right code, never an open redirect."""

import base64
import hashlib

import pytest

from provisioning.models import Authorization, AuthorizationStatus, Grant
from tenants.models import Tenant, TenantState

from .conftest import PATTERN, REDIRECT, authorize_url, query_of, register_app, tenant_with_people

pytestmark = pytest.mark.django_db


def approve(client, url):
    return client.post(url, {"decision": "approve"})


def test_admin_approves_then_code_comes_back_with_state(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(login_app))
    assert page.status_code == 200
    body = page.content.decode()
    assert login_app.app.name in body and login_app.app.partner.name in body
    assert "Acme reads your companies" in body
    assert "system user" in body
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    response = approve(client, authorize_url(login_app))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    params = query_of(response["Location"])
    assert params["state"] == "st-1" and params["code"]
    authorization = Authorization.objects.get(app=login_app.app, tenant=tenant_a.tenant)
    assert authorization.approved_by == tenant_a.admin.user
    assert authorization.consent_text == "Acme reads your companies and writes orders back."
    assert authorization.system_user_token.startswith(login_app.app.name + "-")
    assert Grant.objects.get(code=params["code"]).authorization == authorization


def test_plain_member_without_installation_sees_no_access_and_nothing_is_stored(client, login_app, tenant_a):
    client.force_login(tenant_a.member.user)
    page = client.get(authorize_url(login_app))
    assert page.status_code == 403
    assert "Account does not have access" in page.content.decode()
    assert "Denied" in page.content.decode()
    response = approve(client, authorize_url(login_app))
    assert response.status_code == 403
    assert not Authorization.objects.exists()


def test_member_skips_consent_once_installed(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    approve(client, authorize_url(login_app))
    client.force_login(tenant_a.member.user)
    response = client.get(authorize_url(login_app))
    assert response.status_code == 302 and "code" in query_of(response["Location"])


def test_unknown_client_never_redirects(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, client_id="0" * 32))
    assert response.status_code == 400
    assert "InvalidRedirectUrl" in response.content.decode()
    assert "Request id" in response.content.decode()


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example.com/callback",
        REDIRECT + "/extra",
        "https://partner.example.com/cb/ABC",  # the pattern allows lower case only
        "https://partner.example.com/cb/abc#frag",
    ],
)
def test_unregistered_redirect_uri_never_redirects(client, login_app, tenant_a, uri):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, redirect_uri=uri))
    assert response.status_code == 400
    assert "InvalidRedirectUrl" in response.content.decode()
    assert "evil" not in response.get("Location", "")


def test_pattern_redirect_uri_is_accepted(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    url = authorize_url(login_app, redirect_uri="https://partner.example.com/cb/abc")
    response = approve(client, url)
    assert response.status_code == 302
    assert response["Location"].startswith("https://partner.example.com/cb/abc?code=")
    assert PATTERN.startswith("^")


def test_redirect_url_alias_is_accepted(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, redirect_uri=None, redirect_url=REDIRECT))
    assert response.status_code == 302
    assert "redirect_uri=" in response["Location"]
    assert client.get(response["Location"]).status_code == 200


def test_client_of_another_environment_is_unknown_here(client, tenant_a):
    online_app = register_app(env="online")
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(online_app))
    assert response.status_code == 400 and "InvalidRedirectUrl" in response.content.decode()


def test_missing_openid_scope_redirects_with_error_and_state(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, scope="profile"))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_scope" and params["state"] == "st-1"


def test_unsupported_response_type_redirects_with_error(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, response_type="token"))
    assert query_of(response["Location"])["error"] == "unsupported_response_type"


def test_signed_out_user_is_sent_to_sign_in_and_back(client, login_app, tenant_a):
    response = client.get(authorize_url(login_app))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_several_tenants_pick_one_or_use_acr_values(client, login_app, tenant_a):
    other = tenant_with_people("Cust10009")
    other.tenant.members.create(user=tenant_a.admin.user, is_general_administrator=True)
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(login_app))
    body = page.content.decode()
    assert "Cust10001" in body and "Cust10009" in body and "Which company" in body
    response = approve(client, authorize_url(login_app, acr_values="tenant:Cust10009"))
    assert response.status_code == 302
    assert Authorization.objects.get().tenant == other.tenant


def test_acr_values_for_a_tenant_the_user_is_not_in_is_refused(client, login_app, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, acr_values="tenant:Cust10002"))
    assert response.status_code == 403
    assert not Authorization.objects.exists()


def test_consent_post_without_csrf_is_refused(login_app, tenant_a):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(tenant_a.admin.user)
    response = strict.post(authorize_url(login_app), {"decision": "approve"})
    assert response.status_code == 403
    assert not Authorization.objects.exists()


def test_cancel_redirects_access_denied(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.post(authorize_url(login_app), {"decision": "deny"})
    params = query_of(response["Location"])
    assert params["error"] == "access_denied" and params["state"] == "st-1"
    assert not Authorization.objects.exists()


@pytest.mark.parametrize("status,code", [("revoked", "Revoked"), ("expired", "Expired")])
def test_member_refused_when_revoked_or_expired(client, login_app, tenant_a, status, code):
    client.force_login(tenant_a.admin.user)
    approve(client, authorize_url(login_app))
    authorization = Authorization.objects.get()
    if status == "revoked":
        authorization.status = AuthorizationStatus.REVOKED
    else:
        from django.utils import timezone

        authorization.valid_to = timezone.now()
    authorization.save()
    client.force_login(tenant_a.member.user)
    response = client.get(authorize_url(login_app))
    assert response.status_code == 403
    body = response.content.decode()
    assert code in body
    assert "error=access_denied" in body and "state=st-1" in body


def test_needs_reapproval_refuses_members_until_admin_approves_again(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    approve(client, authorize_url(login_app))
    Authorization.objects.update(
        needs_reapproval=True, reapproval_reason="The app now also asks for: mirroring"
    )
    client.force_login(tenant_a.member.user)
    refused = client.get(authorize_url(login_app))
    assert refused.status_code == 403 and "NeedsReapproval" in refused.content.decode()
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(login_app))
    assert "asks for more access" in page.content.decode()
    approve(client, authorize_url(login_app))
    assert not Authorization.objects.get().needs_reapproval
    client.force_login(tenant_a.member.user)
    assert client.get(authorize_url(login_app)).status_code == 302


def test_explicit_level_app_cannot_be_self_approved(client, tenant_a):
    custom = register_app(authorization_level="explicit")
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(custom))
    assert page.status_code == 403 and "custom app" in page.content.decode()
    response = approve(client, authorize_url(custom))
    assert response.status_code == 403
    assert not Authorization.objects.exists()


def test_form_post_response_mode_renders_autoposting_form(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = approve(client, authorize_url(login_app, response_mode="form_post"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'action="{REDIRECT}"' in body and 'name="code"' in body and 'value="st-1"' in body


def test_fragment_response_mode(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = approve(client, authorize_url(login_app, response_mode="fragment"))
    assert response["Location"].startswith(REDIRECT + "#code=")


def test_pkce_challenge_is_stored_with_the_code(client, login_app, tenant_a):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    client.force_login(tenant_a.admin.user)
    response = approve(
        client, authorize_url(login_app, code_challenge=challenge, code_challenge_method="S256")
    )
    grant = Grant.objects.get(code=query_of(response["Location"])["code"])
    assert grant.code_challenge == challenge and grant.code_challenge_method == "S256"


@pytest.mark.parametrize("params", [
    {"client_id": None},
    {"client_id": "x" * 5000},
    {"client_id": "\x00"},
    {"redirect_uri": "javascript:alert(1)"},
    {"redirect_uri": "not a url"},
    {"client_id": "D5F64A2EB4BE4FEAB46B4C5E30CB9FC5"},
])
def test_malformed_requests_without_a_valid_client_or_uri_get_the_error_page(client, login_app, tenant_a,
                                                                             params):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, **params))
    assert response.status_code == 400
    assert "InvalidRedirectUrl" in response.content.decode()
    assert not response.has_header("Location")


@pytest.mark.parametrize("params,error", [
    ({"code_challenge": "c" * 43, "code_challenge_method": "bogus"}, "invalid_request"),
    ({"response_mode": "bogus"}, "invalid_request"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": None}, "invalid_scope"),
])
def test_malformed_parameters_from_a_known_client_redirect_with_an_error(client, login_app, tenant_a,
                                                                         params, error):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, **params))
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT) and answer["error"] == error
    assert answer["state"] == "st-1"


def test_without_redirect_uri_the_single_exact_registered_one_is_used(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = approve(client, authorize_url(login_app, redirect_uri=None))
    assert response["Location"].startswith(REDIRECT + "?code=")


def test_without_redirect_uri_and_several_exact_ones_the_error_page_shows(client, tenant_a):
    from appstore.models import ConfigurationVersion

    login = register_app()
    ConfigurationVersion.objects.filter(app=login.app).update(
        redirect_urls={"all": [REDIRECT, "https://partner.example.com/other"]})
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login, redirect_uri=None))
    assert response.status_code == 400 and "did not say where to return" in response.content.decode()


def test_sign_in_page_names_the_app_it_leads_back_to(client, login_app):
    response = client.get(authorize_url(login_app), follow=True)
    body = response.content.decode()
    assert f"Sign in to continue to {login_app.app.name}" in body
    plain = client.get("/accounts/login/?next=/portal/").content.decode()
    assert "Sign in to continue" not in plain and "Register your company" in plain


@pytest.mark.parametrize(("state", "said"), [(TenantState.DELETED, "was deleted"),
                                             (TenantState.DELETING, "is being deleted")])
def test_signing_in_to_a_deleted_tenant_says_it_was_deleted(client, login_app, tenant_a, state, said):
    Tenant.objects.filter(pk=tenant_a.tenant.pk).update(state=state)
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(login_app))
    body = page.content.decode()
    assert page.status_code == 403
    assert said in body and "try again later" not in body and "not running" not in body
    assert not Authorization.objects.exists()


def test_other_stopped_states_keep_the_try_again_wording(client, login_app, tenant_a):
    Tenant.objects.filter(pk=tenant_a.tenant.pk).update(state=TenantState.SUSPENDED)
    client.force_login(tenant_a.admin.user)
    body = client.get(authorize_url(login_app)).content.decode()
    assert "is not running (Suspended); try again later." in body.replace("&#x27;", "'")

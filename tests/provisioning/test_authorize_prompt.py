"""Authorize edge cases: prompt=none and prompt=login, malformed PKCE input, errors in form_post mode."""

from urllib.parse import parse_qs, urlsplit

import pytest

from provisioning.models import Authorization

from .conftest import REDIRECT, authorize_url, query_of, tenant_with_people

pytestmark = pytest.mark.django_db


def test_prompt_none_signed_out_returns_login_required(client, login_app, tenant_a):
    response = client.get(authorize_url(login_app, prompt="none"))
    assert response.status_code == 302 and response["Location"].startswith(REDIRECT + "?")
    params = query_of(response["Location"])
    assert params["error"] == "login_required" and params["state"] == "st-1"


def test_prompt_none_before_consent_returns_consent_required_and_stores_nothing(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, prompt="none"))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "consent_required"
    assert not Authorization.objects.exists()


def test_prompt_none_once_installed_returns_a_code(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    client.post(authorize_url(login_app), {"decision": "approve"})
    client.force_login(tenant_a.member.user)
    response = client.get(authorize_url(login_app, prompt="none"))
    assert response.status_code == 302 and query_of(response["Location"])["code"]


def test_prompt_none_refusal_goes_back_without_a_page(client, login_app, tenant_a):
    client.force_login(tenant_a.member.user)  # not an administrator, app not installed
    response = client.get(authorize_url(login_app, prompt="none"))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "access_denied" and "Denied" in params["error_description"]


def test_prompt_none_with_several_companies_asks_for_a_tenant(client, login_app, tenant_a):
    other = tenant_with_people("Cust10009")
    other.tenant.members.create(user=tenant_a.admin.user, is_general_administrator=True)
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, prompt="none"))
    assert query_of(response["Location"])["error"] == "account_selection_required"


def test_prompt_none_with_another_value_is_invalid(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, prompt="none login"))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_prompt_login_asks_for_the_password_again_and_keeps_the_session(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, prompt="login"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/?next=")
    back = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert "prompt" not in parse_qs(urlsplit(back).query)
    assert "_auth_user_id" in client.session  # a link cannot sign anyone out
    assert client.get(back).status_code == 200  # the consent page, no loop back to sign-in


def test_prompt_login_signed_out_goes_to_sign_in(client, login_app, tenant_a):
    response = client.get(authorize_url(login_app, prompt="login"))
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "prompt" not in parse_qs(urlsplit(parse_qs(urlsplit(response["Location"]).query)["next"][0]).query)


def test_prompt_consent_shows_an_installed_app_to_an_admin_again(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    client.post(authorize_url(login_app), {"decision": "approve"})
    page = client.get(authorize_url(login_app, prompt="consent"))
    assert page.status_code == 200 and "Confirm" in page.content.decode()
    confirmed = client.post(authorize_url(login_app, prompt="consent"), {"decision": "approve"})
    assert "code" in query_of(confirmed["Location"])
    client.force_login(tenant_a.member.user)  # members rely on their administrator's consent
    assert "code" in query_of(client.get(authorize_url(login_app, prompt="consent"))["Location"])


@pytest.mark.parametrize("challenge", ["abc", "a" * 129, "a" * 42 + "!"])
def test_malformed_pkce_challenge_goes_back_as_invalid_request(client, login_app, tenant_a, challenge):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, code_challenge=challenge, code_challenge_method="S256"))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request" and "code_challenge" in params["error_description"]


def test_form_post_errors_are_posted_back_too(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    page = client.get(authorize_url(login_app, response_mode="form_post", scope="profile"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'action="{REDIRECT}"' in body
    assert 'name="error" value="invalid_scope"' in body and 'name="state" value="st-1"' in body


def test_unknown_pkce_method_is_named(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, code_challenge="a" * 43, code_challenge_method="MD5"))
    assert "code_challenge_method" in query_of(response["Location"])["error_description"]


def test_an_oversized_request_gets_the_error_page_not_a_crash(client, login_app, tenant_a):
    response = client.get(authorize_url(login_app, state="A" * 20000))
    assert response.status_code == 400 and "longer than 8,192 characters" in response.content.decode()
    assert not response.has_header("Location")


def test_too_many_fields_get_the_sites_own_400_page(client, login_app):
    response = client.get("/sod/login/common/oauth/authorize?" + "&".join(["f=1"] * 1200))
    assert response.status_code == 400 and "We could not read that request" in response.content.decode()


def test_sign_out_errors_speak_of_signing_out(client, login_app):
    target = {"post_logout_redirect_uri": "https://partner.example.com/bye"}
    response = client.get("/sod/login/common/oauth/logout", target)
    body = response.content.decode()
    assert response.status_code == 400 and "could not finish signing you out" in body
    assert "id_token_hint or client_id" in body and "still signed in" not in body

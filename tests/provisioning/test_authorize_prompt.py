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


def test_prompt_login_signs_out_and_returns_without_the_prompt(client, login_app, tenant_a):
    client.force_login(tenant_a.admin.user)
    response = client.get(authorize_url(login_app, prompt="login"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    back = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert "prompt" not in parse_qs(urlsplit(back).query)
    assert "_auth_user_id" not in client.session
    client.force_login(tenant_a.admin.user)
    assert client.get(back).status_code == 200  # the consent page, no loop back to sign-in


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

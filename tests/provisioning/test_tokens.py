"""Token endpoint, refresh, revocation, introspection, id_token claims, isolation and uninstall."""

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jwk, jwt

from provisioning.models import AccessToken, Authorization, Grant, RefreshToken
from provisioning.services.authorizations import uninstall

from .conftest import REDIRECT, authorize_url, query_of, register_app, tenant_with_people

pytestmark = pytest.mark.django_db

PREFIX = "http://schemes.superoffice.net/identity/"
TOKEN_URL = "/sod/login/common/oauth/tokens"
INTROSPECT_URL = "/sod/login/common/oauth/introspect"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def get_code(client, login, user, **params) -> str:
    client.force_login(user)
    url = authorize_url(login, **params)
    response = client.get(url)
    if response.status_code == 200:  # consent screen
        response = client.post(url, {"decision": "approve"})
    assert response.status_code == 302, response.content[:500]
    return query_of(response["Location"])["code"]


def exchange(client, login, code, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": login.client_id,
        "client_secret": login.secret,
        **extra,
    }
    return client.post(TOKEN_URL, {k: v for k, v in data.items() if v is not None})


def tokens_for(client, login, user, **params) -> dict:
    response = exchange(client, login, get_code(client, login, user, **params))
    assert response.status_code == 200, response.content
    return response.json()


def introspect(client, login, token, **extra):
    return client.post(
        INTROSPECT_URL, {"token": token, **extra}, HTTP_AUTHORIZATION=basic(login.client_id, login.secret)
    ).json()


def verify_id_token(client, id_token: str) -> dict:
    keys = jwk.JWKSet.from_json(client.get("/sod/login/.well-known/jwks").content)
    token = jwt.JWT(jwt=id_token, key=keys, algs=["RS256"])
    header = json.loads(token.header)
    assert header["kid"] in [
        key["kid"] for key in json.loads(client.get("/sod/login/.well-known/jwks").content)["keys"]
    ]
    return json.loads(token.claims)


def test_code_exchange_gives_tenant_access_token_and_signed_id_token(client, login_app, tenant_a, settings):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["access_token"].startswith("8A:Cust10001.")
    assert tokens["refresh_token"]
    claims = verify_id_token(client, tokens["id_token"])
    assert claims["iss"] == f"{settings.SITE_URL}/sod"
    assert claims["aud"] == login_app.client_id
    assert claims["nonce"] == "n-1"
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] <= claims["iat"] + 1
    assert claims["sub"] == str(tenant_a.admin.user.pk)
    assert claims[PREFIX + "ctx"] == "Cust10001"
    assert claims[PREFIX + "serial"] == str(tenant_a.tenant.serial)
    assert claims[PREFIX + "email"] == tenant_a.admin.user.email
    assert claims[PREFIX + "upn"] == tenant_a.admin.user.email
    assert claims[PREFIX + "company_name"] == tenant_a.tenant.company_name
    assert claims[PREFIX + "is_administrator"] == "True"
    assert claims[PREFIX + "associateid"] == str(tenant_a.admin.pk)
    assert claims[PREFIX + "webapi_url"].endswith("/api/")
    assert claims[PREFIX + "netserver_url"].endswith("/Remote/Services88/")
    assert claims[PREFIX + "identityprovider"]
    authorization = Authorization.objects.get()
    assert claims[PREFIX + "system_token"] == authorization.system_user_token
    assert not AccessToken.objects.filter(token__startswith="8A:").exists()  # only checksums stored


def test_member_id_token_says_not_administrator_and_no_system_token_without_claim(client, tenant_a):
    plain = register_app(claims=[])
    tokens_for(client, plain, tenant_a.admin.user)
    claims = verify_id_token(client, tokens_for(client, plain, tenant_a.member.user)["id_token"])
    assert claims[PREFIX + "is_administrator"] == "False"
    assert PREFIX + "system_token" not in claims


def test_http_basic_client_authentication(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    response = client.post(
        TOKEN_URL,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert response.status_code == 200 and response.json()["access_token"].startswith("8A:")


def test_wrong_secret_is_invalid_client(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    response = exchange(client, login_app, code, client_secret="wrong")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "client secret" in response.json()["error_description"]


def test_only_the_offered_grants_are_processed(client, login_app, tenant_a):
    auth = basic(login_app.client_id, login_app.secret)
    answers = [
        client.post(TOKEN_URL, {"grant_type": "password", "username": tenant_a.member.user.email,
                                "password": password}, HTTP_AUTHORIZATION=auth).json()
        for password in ("wrong", "demo-password", "x")
    ]
    answers.append(
        client.post(TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth).json())
    assert all(answer["error"] == "unsupported_grant_type" for answer in answers)
    assert len({answer["error_description"] for answer in answers}) == 1  # nothing to tell apart


def test_basic_and_body_secret_together_are_refused(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_secret": login_app.secret}
    response = client.post(TOKEN_URL, data, HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_machine_endpoints_answer_other_methods_in_json(client):
    for url in (TOKEN_URL, INTROSPECT_URL, "/sod/login/common/oauth/revoke"):
        response = client.get(url)
        assert response.status_code == 405 and response.json()["error"] == "invalid_request"


def test_code_is_single_use(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    assert exchange(client, login_app, code).status_code == 200
    again = exchange(client, login_app, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "already used" in again.json()["error_description"]


def test_expired_code_is_refused(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    response = exchange(client, login_app, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_expires_after_ten_minutes(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    grant = Grant.objects.get(code=code)
    assert timedelta(minutes=9, seconds=50) < grant.expires - grant.created <= timedelta(minutes=10)


def test_redirect_uri_must_match_the_one_of_the_code(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    response = exchange(client, login_app, code, redirect_uri="https://partner.example.com/cb/other")
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce(client, login_app, tenant_a, method):
    verifier = "a-verifier-that-is-long-enough-to-be-valid-0123456789"
    challenge = (
        verifier
        if method == "plain"
        else base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = get_code(
        client, login_app, tenant_a.admin.user, code_challenge=challenge, code_challenge_method=method
    )
    wrong = exchange(client, login_app, code, code_verifier="x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = get_code(
        client, login_app, tenant_a.admin.user, code_challenge=challenge, code_challenge_method=method
    )
    assert exchange(client, login_app, code, code_verifier=verifier).status_code == 200


def test_pkce_without_verifier_is_refused(client, login_app, tenant_a):
    code = get_code(
        client, login_app, tenant_a.admin.user, code_challenge="c" * 43, code_challenge_method="plain"
    )
    response = exchange(client, login_app, code)
    assert response.status_code == 400


def test_verifier_for_a_code_without_challenge_is_refused(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    response = exchange(client, login_app, code, code_verifier="a" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_refresh_gives_new_tokens_for_the_same_tenant(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    response = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert (
        fresh["access_token"].startswith("8A:Cust10001.") and fresh["access_token"] != tokens["access_token"]
    )
    assert verify_id_token(client, fresh["id_token"])[PREFIX + "ctx"] == "Cust10001"


def test_revocation_of_refresh_token(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    response = client.post(
        "/sod/login/common/oauth/revoke",
        {"token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert response.status_code == 200
    again = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_revocation_of_access_token(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    client.post(
        "/sod/login/common/oauth/revoke",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert introspect(client, login_app, tokens["access_token"]) == {"active": False}


def test_introspection_of_access_token(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    answer = introspect(client, login_app, tokens["access_token"])
    assert answer["active"] is True and answer["ctx"] == "Cust10001"
    assert answer["client_id"] == login_app.client_id and answer["system_user"] is False
    assert answer["sub"] == str(tenant_a.admin.user.pk) and answer["exp"] > timezone.now().timestamp()


def test_introspection_needs_client_authentication(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    response = client.post(INTROSPECT_URL, {"token": tokens["access_token"]})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_another_app_cannot_introspect_foreign_tokens(client, login_app, tenant_a):
    other = register_app()
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    assert introspect(client, other, tokens["access_token"]) == {"active": False}


def test_expired_access_token_is_inactive(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert introspect(client, login_app, tokens["access_token"]) == {"active": False}


def test_tokens_of_one_tenant_never_introspect_as_another(client, login_app, tenant_a, tenant_b):
    a = tokens_for(client, login_app, tenant_a.admin.user)
    b = tokens_for(client, login_app, tenant_b.admin.user)
    assert introspect(client, login_app, a["access_token"])["ctx"] == "Cust10001"
    assert introspect(client, login_app, b["access_token"])["ctx"] == "Cust10002"
    assert a["access_token"].startswith("8A:Cust10001.") and b["access_token"].startswith("8A:Cust10002.")


def test_sod_authorization_is_not_valid_in_online(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    online = client.post(
        "/online/login/common/oauth/introspect",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert online.status_code == 401  # the sod client is unknown in online
    refresh = client.post(
        "/online/login/common/oauth/tokens",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert refresh.status_code == 401 and refresh.json()["error"] == "invalid_client"


def test_uninstall_stops_refresh_access_token_and_keeps_tenant_data(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    uninstall(authorization=Authorization.objects.get(), user=tenant_a.admin.user)
    assert introspect(client, login_app, tokens["access_token"]) == {"active": False}
    refresh = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    tenant_a.tenant.refresh_from_db()
    assert tenant_a.tenant.members.count() == 2
    assert Authorization.objects.get().status == "revoked"


def test_needs_reapproval_stops_refresh(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    Authorization.objects.update(needs_reapproval=True)
    refresh = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    )
    assert refresh.status_code == 400
    assert introspect(client, login_app, tokens["access_token"]) == {"active": False}


def test_code_issued_before_uninstall_cannot_be_exchanged(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    uninstall(authorization=Authorization.objects.get(), user=tenant_a.admin.user)
    assert not Grant.objects.exists()  # outstanding codes are deleted with the tokens
    assert exchange(client, login_app, code).status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": "password", "username": "a", "password": "b"},
        {"grant_type": "authorization_code"},
        {"grant_type": "refresh_token"},
        {"grant_type": "client_credentials"},
        {"grant_type": "\x00garbage", "code": "x" * 5000},
    ],
)
def test_malformed_token_requests_get_rfc6749_json(client, login_app, data):
    response = client.post(TOKEN_URL, data, HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret))
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] in (
        "invalid_request",
        "unsupported_grant_type",
        "invalid_grant",
        "unauthorized_client",
        "invalid_client",
    )


def test_discovery_documents(client, settings):
    for path in ("/sod/.well-known/openid-configuration", "/sod/login/.well-known/openid-configuration"):
        doc = client.get(path).json()
        assert doc["issuer"] == f"{settings.SITE_URL}/sod"
        assert doc["token_endpoint"] == f"{settings.SITE_URL}/sod/login/common/oauth/tokens"
        assert doc["jwks_uri"] == f"{settings.SITE_URL}/sod/login/.well-known/jwks"
        assert doc["response_types_supported"] == ["code"]
        assert doc["code_challenge_methods_supported"] == ["S256", "plain"]
        assert "userinfo_endpoint" not in doc
    online = client.get("/online/.well-known/openid-configuration").json()
    assert online["issuer"] == f"{settings.SITE_URL}/online"
    assert client.get("/nowhere/.well-known/openid-configuration").status_code == 404


def test_each_environment_has_its_own_signing_key(client):
    sod = client.get("/sod/login/.well-known/jwks").json()["keys"]
    online = client.get("/online/login/.well-known/jwks").json()["keys"]
    assert sod and online and {k["kid"] for k in sod}.isdisjoint({k["kid"] for k in online})
    assert all("d" not in key for key in sod)  # public halves only


def test_refresh_token_stored_only_as_checksum(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    assert RefreshToken.objects.get().token == ""
    assert tokens["refresh_token"] not in str(list(RefreshToken.objects.values()))


def test_second_tenant_of_the_user(client, login_app, tenant_a):
    other = tenant_with_people("Cust10003")
    other.tenant.members.create(user=tenant_a.admin.user, is_general_administrator=True)
    tokens = tokens_for(client, login_app, tenant_a.admin.user, acr_values="tenant:Cust10003")
    assert tokens["access_token"].startswith("8A:Cust10003.")


def test_end_session_with_id_token_hint_signs_out_and_returns(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    response = client.get("/sod/login/common/oauth/logout", {
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://partner.example.com/bye",
        "state": "s1"})
    assert response.status_code == 302 and response["Location"] == "https://partner.example.com/bye?state=s1"
    assert "_auth_user_id" not in client.session


def test_end_session_without_hint_asks_before_signing_out(login_app, tenant_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tenant_a.admin.user)
    params = {"client_id": login_app.client_id, "post_logout_redirect_uri": "https://partner.example.com/bye"}
    page = browser.get("/sod/login/common/oauth/logout", params)
    assert page.status_code == 200 and "Sign out?" in page.content.decode()
    assert "_auth_user_id" in browser.session
    forged = browser.post("/sod/login/common/oauth/logout", {**params, "confirm": "1"})
    assert forged.status_code == 200 and "_auth_user_id" in browser.session  # no CSRF token: asked again
    token = browser.cookies["csrftoken"].value
    done = browser.post("/sod/login/common/oauth/logout", {**params, "confirm": "1",
                                                          "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == "https://partner.example.com/bye"
    assert "_auth_user_id" not in browser.session


@pytest.mark.parametrize("target", ["https://evil.example.com/", "https://partner.example.com/bye/x"])
def test_end_session_never_redirects_to_unregistered_uri(client, login_app, tenant_a, target):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    response = client.get("/sod/login/common/oauth/logout", {
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": target})
    assert response.status_code == 400 and not response.has_header("Location")
    assert "InvalidRedirectUrl" in response.content.decode()


def test_end_session_with_another_users_hint_asks_first(client, login_app, tenant_a):
    tokens_for(client, login_app, tenant_a.admin.user)  # installs the app
    others = tokens_for(client, login_app, tenant_a.member.user)
    client.force_login(tenant_a.admin.user)
    response = client.get("/sod/login/common/oauth/logout", {"id_token_hint": others["id_token"]})
    assert response.status_code == 200 and "Sign out?" in response.content.decode()
    assert "_auth_user_id" in client.session


def test_end_session_ignores_a_forged_hint(client, login_app, tenant_a):
    tokens_for(client, login_app, tenant_a.admin.user)
    head, body, _sig = tokens_for(client, login_app, tenant_a.admin.user)["id_token"].split(".")
    response = client.get("/sod/login/common/oauth/logout", {"id_token_hint": f"{head}.{body}.AAAA"})
    assert response.status_code == 200 and "Sign out?" in response.content.decode()

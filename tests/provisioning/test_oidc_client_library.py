"""The whole code flow driven by a standard OpenID Connect client library (Authlib) against a live
server: discovery, authorize with PKCE, consent, token, id_token verified through the JWKS,
refresh, revocation, end session. The user's browser is a requests session."""

import re

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from appstore.models import ConfigurationVersion

from ..factories import PASSWORD
from .conftest import register_app, tenant_with_people

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

PREFIX = "http://schemes.superoffice.net/identity/"
CALLBACK = "http://127.0.0.1:8765/callback"


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_in(browser: requests.Session, base: str, email: str) -> None:
    page = browser.get(f"{base}/accounts/login/")
    response = browser.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf(page.text), "login": email, "password": PASSWORD},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]


def test_code_flow_with_authlib(live_server, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    login = register_app()
    ConfigurationVersion.objects.filter(app=login.app).update(
        redirect_urls={"all": [CALLBACK]}, post_logout_redirect_urls={"all": ["http://127.0.0.1:8765/"]}
    )
    people = tenant_with_people("Cust10001")

    metadata = requests.get(f"{base}/sod/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == f"{base}/sod"
    client = OAuth2Session(
        login.client_id,
        login.secret,
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = "v3rifier-" + "x" * 60
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"],
        code_verifier=verifier,
        nonce="nonce-123",
        acr_values="tenant:Cust10001",
    )

    browser = requests.Session()
    sign_in(browser, base, people.admin.user.email)
    consent = browser.get(url, allow_redirects=False)
    assert consent.status_code == 200 and "Approve and install" in consent.text
    back = browser.post(
        url,
        data={"csrfmiddlewaretoken": csrf(consent.text), "decision": "approve"},
        headers={"Referer": url},
        allow_redirects=False,
    )
    assert back.status_code == 302 and back.headers["Location"].startswith(CALLBACK)

    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=back.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    assert token["access_token"].startswith("8A:Cust10001.")

    jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": login.client_id},
        },
        claims_params={"nonce": "nonce-123"},
    )
    claims.validate()
    assert claims[PREFIX + "ctx"] == "Cust10001"
    assert claims[PREFIX + "is_administrator"] == "True"
    assert claims[PREFIX + "system_token"].startswith(login.app.name + "-")
    for name in (
        "serial",
        "webapi_url",
        "netserver_url",
        "associateid",
        "email",
        "company_name",
        "upn",
        "identityprovider",
    ):
        assert claims[PREFIX + name], name

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["access_token"].startswith("8A:Cust10001.")

    introspected = client.introspect_token(
        metadata["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    assert introspected["active"] is True and introspected["ctx"] == "Cust10001"

    revoked = client.revoke_token(
        metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200
    with pytest.raises(Exception, match="invalid_grant"):
        client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])

    end = browser.get(
        metadata["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "http://127.0.0.1:8765/",
            "state": "bye",
        },
        allow_redirects=False,
    )
    assert end.status_code == 302 and end.headers["Location"] == "http://127.0.0.1:8765/?state=bye"
    # Signed out of the platform too: the next authorize asks to sign in again.
    assert browser.get(url, allow_redirects=False).headers["Location"].startswith("/accounts/login/")


def test_end_session_refuses_unregistered_post_logout_uri(live_server, settings):
    settings.SITE_URL = live_server.url
    response = requests.get(
        f"{live_server.url}/sod/login/common/oauth/logout",
        params={"post_logout_redirect_uri": "https://evil.example.com/", "client_id": "0" * 32},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "InvalidRedirectUrl" in response.text

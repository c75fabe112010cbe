"""PartnerSystemUser/Authenticate: signed system-user token for a ticket; the ticket's idle expiry."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jwk, jwt

from audit.models import AuditEntry
from provisioning.models import Authorization
from provisioning.services import system_users
from provisioning.services.authorizations import uninstall
from tenants.models import Environment

from .conftest import register_app
from .test_tokens import basic, tokens_for

pytestmark = pytest.mark.django_db

URL = "/sod/login/api/PartnerSystemUser/Authenticate"
PREFIX = "http://schemes.superoffice.net/identity/"


def stamp(at=None) -> str:
    return (at or timezone.now()).strftime("%Y%m%d%H%M")


@pytest.fixture
def installed(client, login_app, tenant_a):
    tokens_for(client, login_app, tenant_a.admin.user)
    return Authorization.objects.get()


def post(client, body):
    return client.post(
        URL, json.dumps(body) if not isinstance(body, (str, bytes)) else body, content_type="application/json"
    )


def request_body(login, authorization, *, signed=None, secret=None, ctx="Cust10001"):
    return {
        "SignedSystemToken": signed or login.sign(authorization.system_user_token, stamp()),
        "ApplicationToken": secret if secret is not None else login.secret,
        "ContextIdentifier": ctx,
        "ReturnTokenType": "JWT",
    }


def ticket_of(client, answer) -> str:
    keys = jwk.JWKSet.from_json(client.get("/sod/login/.well-known/jwks").content)
    claims = json.loads(jwt.JWT(jwt=answer["Token"], key=keys, algs=["RS256"]).claims)
    assert claims["iss"] == "SuperOffice AS"
    return claims


def unverified_ticket(token: str) -> str:
    parsed = jwt.JWT()
    parsed.deserialize(token)
    return json.loads(parsed.token.objects["payload"].decode())[PREFIX + "ticket"]


def test_valid_signature_gives_a_ticket_jwt(client, login_app, installed, tenant_a):
    response = post(client, request_body(login_app, installed))
    assert response.status_code == 200
    answer = response.json()
    assert answer["IsSuccessful"] is True and answer["ErrorMessage"] == ""
    claims = ticket_of(client, answer)
    assert claims["aud"] == f"spn:{tenant_a.tenant.serial}"
    assert claims[PREFIX + "ticket"].startswith("7T:")


def test_ticket_introspects_as_system_user_with_the_app_token(client, login_app, installed):
    ticket = ticket_of(client, post(client, request_body(login_app, installed)).json())[PREFIX + "ticket"]
    answer = client.post(
        "/sod/login/common/oauth/introspect",
        {"token": ticket, "app_token": login_app.secret},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    ).json()
    assert answer["active"] is True and answer["system_user"] is True and answer["ctx"] == "Cust10001"
    wrong = client.post(
        "/sod/login/common/oauth/introspect",
        {"token": ticket, "app_token": "nope"},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    ).json()
    assert wrong == {"active": False}


@pytest.mark.parametrize(
    "case,error",
    [
        ("tampered", "InvalidSignature"),
        ("stale", "InvalidTimestamp"),
        ("future", "InvalidTimestamp"),
        ("secret", "ApplicationToken"),
        ("tenant", "Cust10002"),
        ("other_key", "InvalidSignature"),
    ],
)
def test_refusals(client, login_app, installed, tenant_b, case, error):
    token = installed.system_user_token
    body = request_body(login_app, installed)
    if case == "tampered":
        signed = login_app.sign(token, stamp())
        body["SignedSystemToken"] = signed[:-6] + ("AAAA==" if not signed.endswith("AAAA==") else "BBBB==")
    elif case == "stale":
        body["SignedSystemToken"] = login_app.sign(token, stamp(timezone.now() - timedelta(minutes=6)))
    elif case == "future":
        body["SignedSystemToken"] = login_app.sign(token, stamp(timezone.now() + timedelta(minutes=6)))
    elif case == "secret":
        body["ApplicationToken"] = "wrong-secret"
    elif case == "tenant":
        body["ContextIdentifier"] = "Cust10002"
    elif case == "other_key":
        body["SignedSystemToken"] = register_app().sign(token, stamp())
    response = post(client, body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["IsSuccessful"] is False and answer["Token"] is None
    assert error in answer["ErrorMessage"]
    # Refusals of an identified app reach the partner's audit log; a token nobody owns does not.
    audited = AuditEntry.objects.filter(event_type="system_user.refused", app_id=login_app.app.pk).exists()
    assert audited is (case != "tenant")


def test_timestamp_within_five_minutes_is_accepted(client, login_app, installed):
    body = request_body(
        login_app,
        installed,
        signed=login_app.sign(installed.system_user_token, stamp(timezone.now() - timedelta(minutes=4))),
    )
    assert post(client, body).json()["IsSuccessful"] is True


def test_revoked_authorization_is_refused_and_tickets_die(client, login_app, installed, tenant_a):
    ticket = ticket_of(client, post(client, request_body(login_app, installed)).json())[PREFIX + "ticket"]
    uninstall(authorization=installed, user=tenant_a.admin.user)
    answer = post(client, request_body(login_app, installed)).json()
    assert answer["IsSuccessful"] is False and "Revoked" in answer["ErrorMessage"]
    introspected = client.post(
        "/sod/login/common/oauth/introspect",
        {"token": ticket, "app_token": login_app.secret},
        HTTP_AUTHORIZATION=basic(login_app.client_id, login_app.secret),
    ).json()
    assert introspected == {"active": False}


def test_ticket_idle_for_more_than_six_hours_is_rejected(login_app, installed):
    sod = Environment.objects.get(code="sod")
    start = timezone.now()
    result = system_users.exchange(environment=sod, payload=request_body(login_app, installed), now=start)
    ticket = unverified_ticket(result.token)
    # Used after five hours: still alive, and the idle clock starts again.
    assert system_users.use_ticket(environment=sod, ticket=ticket, now=start + timedelta(hours=5)) is not None
    assert (
        system_users.use_ticket(environment=sod, ticket=ticket, now=start + timedelta(hours=10, minutes=59))
        is not None
    )
    assert (
        system_users.use_ticket(environment=sod, ticket=ticket, now=start + timedelta(hours=17, minutes=1))
        is None
    )
    assert (
        system_users.use_ticket(environment=sod, ticket=ticket, now=start + timedelta(hours=17, minutes=2))
        is None
    )


def test_ticket_is_not_valid_in_another_environment(login_app, installed):
    sod, online = Environment.objects.get(code="sod"), Environment.objects.get(code="online")
    ticket = unverified_ticket(
        system_users.exchange(environment=sod, payload=request_body(login_app, installed)).token
    )
    assert system_users.use_ticket(environment=online, ticket=ticket) is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe",
        "[]",
        "null",
        "{}",
        '{"SignedSystemToken": 5}',
        json.dumps({"SignedSystemToken": "a" * 10000, "ApplicationToken": "x", "ContextIdentifier": "Cust1"}),
        json.dumps({"SignedSystemToken": "no-dots", "ApplicationToken": "x", "ContextIdentifier": "Cust1"}),
        json.dumps(
            {
                "SignedSystemToken": "a.b.c",
                "ApplicationToken": "x",
                "ContextIdentifier": "Cust1",
                "ReturnTokenType": "SAML",
            }
        ),
    ],
)
def test_garbage_bodies_answer_400_with_a_reason(client, body):
    response = post(client, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["IsSuccessful"] is False and answer["ErrorMessage"]


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    response = post(client, "[" * 5000 + "]" * 5000)
    assert response.status_code == 400 and response.json()["IsSuccessful"] is False


def test_oversized_body_is_refused(client):
    response = post(client, json.dumps({"SignedSystemToken": "x" * 20000}))
    assert response.status_code in (400, 413)
    assert response.json()["IsSuccessful"] is False


def test_get_is_not_allowed(client):
    response = client.get(URL)
    assert response.status_code == 405 and response.json()["IsSuccessful"] is False

"""The reference partner service, against a small stand-in for the platform's login service.

The stand-in is a real HTTP server on 127.0.0.1 (werkzeug, in a thread): the service fetches
discovery and the JWKS, exchanges codes, signs and exchanges the system-user token and
introspects over real HTTP, exactly as it does against the platform.
"""

import ast
import base64
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from examples.partner_service.app import CLAIM_PREFIX, create_app
from examples.partner_service.system_user import sign_system_token

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "partner_service"
CLIENT_ID = "0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "s3cret-of-acme"
CTX = "Cust12345"
SERIAL = "1234567"
SYSTEM_TOKEN = "Acme ERP-Ab3dE5gH9k"
REDIRECT_URI = "http://127.0.0.1:8001/callback"
POST_LOGOUT_URI = "http://127.0.0.1:8001/"


def _partner_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def partner_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_partner_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- sign_system_token --------------------------------------------------------------------

def test_sign_system_token_signs_token_and_utc_minute(partner_key):
    now = datetime(2024, 5, 6, 7, 8, 59, tzinfo=UTC)
    signed = sign_system_token(SYSTEM_TOKEN, _partner_pem(partner_key), now=now)

    assert re.fullmatch(r"Acme ERP-Ab3dE5gH9k\.202405060708\.[A-Za-z0-9+/]+={0,2}", signed)
    message, signature = signed.rsplit(".", 1)
    assert message == "Acme ERP-Ab3dE5gH9k.202405060708"
    raw = base64.b64decode(signature, validate=True)
    assert len(raw) == 256
    partner_key.public_key().verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_sign_system_token_signature_does_not_verify_with_another_key(partner_key, other_partner_key):
    now = datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
    signed = sign_system_token(SYSTEM_TOKEN, _partner_pem(partner_key), now=now)
    message, signature = signed.rsplit(".", 1)
    with pytest.raises(InvalidSignature):
        other_partner_key.public_key().verify(base64.b64decode(signature), message.encode(),
                                              padding.PKCS1v15(), hashes.SHA256())


def test_sign_system_token_takes_times_as_utc(partner_key):
    pem = _partner_pem(partner_key)
    oslo_summer = timezone(timedelta(hours=2))

    aware = sign_system_token("T", pem, now=datetime(2024, 1, 1, 1, 30, tzinfo=oslo_summer))
    naive = sign_system_token("T", pem, now=datetime(2024, 12, 31, 23, 59))

    assert aware.split(".")[1] == "202312312330"
    assert naive.split(".")[1] == "202412312359"


def test_sign_system_token_defaults_to_now(partner_key):
    before = datetime.now(UTC).strftime("%Y%m%d%H%M")
    stamp = sign_system_token("T", _partner_pem(partner_key)).split(".")[1]
    after = datetime.now(UTC).strftime("%Y%m%d%H%M")
    assert before <= stamp <= after


def test_sign_system_token_refuses_a_key_that_is_not_rsa():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="RSA"):
        sign_system_token("T", pem)


# --- The stand-in login service -----------------------------------------------------------

class StandIn:
    """Just enough of the platform's login service for environment sod, over real HTTP."""

    def __init__(self, platform_key: RSAKey) -> None:
        self.platform_key = platform_key
        self.server = make_server("127.0.0.1", 0, self.wsgi)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}/sod"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def reset(self, partner_public_key: rsa.RSAPublicKey) -> None:
        self.partner_public_key = partner_public_key
        self.codes: dict[str, dict] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.tickets: set[str] = set()
        self.seen: list[tuple[str, dict]] = []
        self.id_token_changes: dict = {}
        self.id_token_key = self.platform_key
        self.ticket_jwt_key = self.platform_key

    def issue_code(self, authorize_url: str) -> tuple[str, str]:
        """What the authorize endpoint does once the user consents: returns (code, state)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return code, query["state"]

    # --- HTTP ---

    @Request.application
    def wsgi(self, request: Request) -> Response:
        path = request.path.removeprefix("/sod")
        self.seen.append((path, {"authorization": request.headers.get("Authorization", ""),
                                 "form": request.form.to_dict(),
                                 "json": request.get_json(silent=True)}))
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/login/.well-known/openid-configuration": self.discovery,
            "/login/.well-known/jwks": self.jwks,
            "/login/common/oauth/tokens": self.token,
            "/login/api/PartnerSystemUser/Authenticate": self.authenticate,
            "/login/common/oauth/introspect": self.introspect,
        }
        if path not in routes:
            return self.answer({"error": "not_found"}, 404)
        return routes[path](request)

    @staticmethod
    def answer(data: dict, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def refuse(self, error: str, description: str) -> Response:
        return self.answer({"error": error, "error_description": description}, 400)

    def discovery(self, request: Request) -> Response:
        login = f"{self.issuer}/login"
        return self.answer({
            "issuer": self.issuer,
            "authorization_endpoint": f"{login}/common/oauth/authorize",
            "token_endpoint": f"{login}/common/oauth/tokens",
            "jwks_uri": f"{login}/.well-known/jwks",
            "revocation_endpoint": f"{login}/common/oauth/revoke",
            "end_session_endpoint": f"{login}/common/oauth/logout",
            "introspection_endpoint": f"{login}/common/oauth/introspect",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    def jwks(self, request: Request) -> Response:
        return self.answer(KeySet([self.platform_key]).as_dict(private=False))

    def client_authenticated(self, request: Request) -> bool:
        return request.authorization is not None and (
            request.authorization.username, request.authorization.password) == (CLIENT_ID, CLIENT_SECRET)

    def token(self, request: Request) -> Response:
        if not self.client_authenticated(request):
            return self.answer({"error": "invalid_client"}, 401)
        form = request.form
        if form.get("grant_type") == "authorization_code":
            query = self.codes.pop(form.get("code", ""), None)
            if query is None:
                return self.refuse("invalid_grant", "Unknown code.")
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
            if challenge != query["code_challenge"] or form.get("redirect_uri") != query["redirect_uri"]:
                return self.refuse("invalid_grant", "PKCE or redirect_uri.")
            nonce = query["nonce"]
        elif form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return self.refuse("invalid_grant", "Authorization revoked.")
            nonce = None
        else:
            return self.refuse("unsupported_grant_type", "")
        access_token = f"8A:{CTX}.{secrets.token_urlsafe(24)}"
        refresh_token = secrets.token_urlsafe(24)
        self.access_tokens.add(access_token)
        self.refresh_tokens.add(refresh_token)
        return self.answer({"token_type": "Bearer", "access_token": access_token, "expires_in": 3600,
                            "refresh_token": refresh_token, "id_token": self.id_token(nonce)})

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "ada@acme.example", "iat": now, "nbf": now,
                  "exp": now + 300}
        if nonce:
            claims["nonce"] = nonce
        claims.update({CLAIM_PREFIX + name: value for name, value in {
            "ctx": CTX, "serial": SERIAL, "webapi_url": f"http://127.0.0.1:8000/sandbox/sod/{CTX}/api",
            "netserver_url": f"http://127.0.0.1:8000/sandbox/sod/{CTX}/Remote/Services88",
            "associateid": "5", "email": "ada@acme.example", "company_name": "Acme <Holding> & Co",
            "is_administrator": "True", "upn": "ada@acme.example", "identityprovider": "platform",
            "system_token": SYSTEM_TOKEN}.items()})
        claims.update(self.id_token_changes)
        return jwt.encode({"alg": "RS256", "kid": self.id_token_key.kid}, claims, self.id_token_key)

    def authenticate(self, request: Request) -> Response:
        body = request.get_json()
        refused = {"IsSuccessful": False, "Token": None}
        if body["ApplicationToken"] != CLIENT_SECRET or body["ContextIdentifier"] != CTX:
            return self.answer({**refused, "ErrorMessage": "Unknown application or tenant"})
        stamped, _, signature = body["SignedSystemToken"].rpartition(".")
        token, _, stamp = stamped.rpartition(".")
        try:
            self.partner_public_key.verify(base64.b64decode(signature), stamped.encode(), padding.PKCS1v15(),
                                           hashes.SHA256())
        except (InvalidSignature, ValueError):
            return self.answer({**refused, "ErrorMessage": "InvalidSignature"})
        signed_at = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
        if token != SYSTEM_TOKEN or abs(datetime.now(UTC) - signed_at) > timedelta(minutes=5):
            return self.answer({**refused, "ErrorMessage": "InvalidTimestamp"})
        ticket = f"7T:{secrets.token_urlsafe(24)}"
        self.tickets.add(ticket)
        now = int(time.time())
        claims = {"iss": "SuperOffice AS", "aud": f"spn:{SERIAL}", "iat": now, "nbf": now, "exp": now + 3600,
                  CLAIM_PREFIX + "ticket": ticket, CLAIM_PREFIX + "ctx": CTX}
        signed_jwt = jwt.encode({"alg": "RS256", "kid": self.ticket_jwt_key.kid}, claims, self.ticket_jwt_key)
        return self.answer({"IsSuccessful": True, "Token": signed_jwt, "ErrorMessage": ""})

    def introspect(self, request: Request) -> Response:
        if not self.client_authenticated(request):
            return self.answer({"error": "invalid_client"}, 401)
        token = request.form.get("token", "")
        common = {"active": True, "client_id": CLIENT_ID, "ctx": CTX, "exp": int(time.time()) + 3600}
        if token in self.access_tokens:
            return self.answer({**common, "sub": "ada@acme.example", "system_user": False})
        if token in self.tickets and request.form.get("app_token") == CLIENT_SECRET:
            return self.answer({**common, "sub": SYSTEM_TOKEN, "system_user": True})
        return self.answer({"active": False})


@pytest.fixture(scope="module")
def platform_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "platform-1"})


@pytest.fixture(scope="module")
def _server(platform_key):
    stand_in = StandIn(platform_key)
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


@pytest.fixture
def stand_in(_server, partner_key):
    _server.reset(partner_key.public_key())
    return _server


@pytest.fixture
def settings_file(tmp_path, stand_in, partner_key):
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({
        "environment": "sod", "issuer": stand_in.issuer, "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "private_key_pem": _partner_pem(partner_key),
        "redirect_uri": REDIRECT_URI, "post_logout_redirect_uri": POST_LOGOUT_URI, "app_name": "Acme ERP",
    }))
    return path


@pytest.fixture
def service(settings_file):
    app = create_app(settings_file)
    app.testing = True
    return app.test_client()


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def csrf_of(service) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', service.get("/").get_data(as_text=True)).group(1)


def sign_in(service, stand_in):
    login = service.get("/login")
    assert login.status_code == 302
    code, state = stand_in.issue_code(login.headers["Location"])
    return service.get("/callback", query_string={"code": code, "state": state})


def post(service, path: str):
    return service.post(path, data={"csrf": csrf_of(service)})


# --- Settings -----------------------------------------------------------------------------

def test_home_says_demo_data_is_missing_when_there_is_no_settings_file(tmp_path):
    missing = tmp_path / "var" / "demo" / "acme.json"
    service = create_app(missing).test_client()

    for path in ("/", "/login"):
        response = service.get(path)
        assert response.status_code == 200
        assert "The platform's demo data has not been loaded" in text_of(response)
        assert "make run" in text_of(response)
        assert str(missing) in text_of(response)


def test_settings_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTNER_SETTINGS", str(tmp_path / "elsewhere.json"))
    assert str(tmp_path / "elsewhere.json") in text_of(create_app().test_client().get("/"))


def test_unreadable_settings_file_is_explained(tmp_path):
    path = tmp_path / "acme.json"
    path.write_text('{"issuer": "http://127.0.0.1:8000/sod"}')
    response = create_app(path).test_client().get("/")
    assert response.status_code == 500
    assert "lacks: client_id, client_secret, redirect_uri" in text_of(response)


# --- Sign-in ------------------------------------------------------------------------------

def test_home_offers_sign_in(service):
    response = service.get("/")
    assert response.status_code == 200
    assert 'name="viewport"' in response.get_data(as_text=True)
    assert "Sign in with" in text_of(response)
    assert "Acme ERP" in text_of(response)


def test_login_asks_for_code_with_pkce_nonce_and_state(service, stand_in):
    response = service.get("/login")

    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        f"{stand_in.issuer}/login/common/oauth/authorize"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]


def test_callback_signs_in_and_shows_the_verified_claims(service, stand_in):
    response = sign_in(service, stand_in)

    assert response.status_code == 302
    token_call = next(data for path, data in stand_in.seen if path == "/login/common/oauth/tokens")
    assert token_call["authorization"].startswith("Basic ")
    assert token_call["form"]["code_verifier"]
    home = service.get("/")
    page = text_of(home)
    assert "Signed in as ada@acme.example" in page
    assert f"{CTX}" in page and "matches the ctx claim" in page
    for claim in ("…/identity/ctx", "…/identity/serial", "…/identity/is_administrator",
                  "…/identity/system_token", "nonce", "aud", "iss"):
        assert claim in page
    assert "Acme <Holding> & Co" in page
    assert "Acme &lt;Holding&gt; &amp; Co" in home.get_data(as_text=True)
    for button in ("Exchange system user token", "Introspect access token", "Refresh tokens", "Sign out"):
        assert button in page


def test_callback_shows_the_error_the_platform_sent(service):
    service.get("/login")
    response = service.get("/callback", query_string={
        "error": "access_denied", "error_description": "The administrator <b>declined</b>.", "state": "x"})

    assert response.status_code == 400
    assert "Sign-in did not complete" in text_of(response)
    assert "access_denied" in text_of(response)
    assert "The administrator &lt;b&gt;declined&lt;/b&gt;." in response.get_data(as_text=True)
    assert "Sign in with" in text_of(service.get("/"))


def test_callback_refuses_a_state_it_did_not_send(service, stand_in):
    login = service.get("/login")
    code, _ = stand_in.issue_code(login.headers["Location"])
    response = service.get("/callback", query_string={"code": code, "state": "forged"})

    assert response.status_code == 400
    assert "mismatching_state" in text_of(response)
    assert "Open this service at http://127.0.0.1:8001." in text_of(response)


@pytest.mark.parametrize(("change", "reason"), [
    ("nonce", "Invalid claim: 'nonce'"),
    ("aud", "claim: 'a"),  # Authlib names aud or azp, whichever it checks first
    ("iss", "Invalid claim: 'iss'"),
    ("expired", "expired_token"),
    ("signed_by_other_key", "bad_signature"),
    ("unknown_kid", "No key for kid: 'platform-2'"),
])
def test_callback_refuses_an_id_token_that_does_not_verify(service, stand_in, change, reason):
    if change == "nonce":
        stand_in.id_token_changes = {"nonce": "not-ours"}
    elif change == "aud":
        stand_in.id_token_changes = {"aud": "someone-else"}
    elif change == "iss":
        stand_in.id_token_changes = {"iss": "http://127.0.0.1:9/sod"}
    elif change == "expired":
        stand_in.id_token_changes = {"exp": int(time.time()) - 3600}
    else:
        kid = stand_in.platform_key.kid if change == "signed_by_other_key" else "platform-2"
        stand_in.id_token_key = RSAKey.generate_key(2048, parameters={"kid": kid})

    response = sign_in(service, stand_in)

    assert response.status_code == 400
    assert "The id_token could not be verified" in text_of(response)
    assert reason in text_of(response)
    # An unknown kid may mean the platform rotated its keys: the JWKS is fetched once more.
    jwks_fetches = sum(path == "/login/.well-known/jwks" for path, _ in stand_in.seen)
    assert jwks_fetches == (2 if change == "unknown_kid" else 1)
    assert "Sign in with" in text_of(service.get("/"))


# --- Signed-in actions --------------------------------------------------------------------

def test_system_user_exchange_shows_verified_ticket_and_its_introspection(service, stand_in):
    sign_in(service, stand_in)
    response = post(service, "/system-user")

    assert response.status_code == 200
    exchange = next(data for path, data in stand_in.seen
                    if path == "/login/api/PartnerSystemUser/Authenticate")["json"]
    assert exchange["ApplicationToken"] == CLIENT_SECRET
    assert exchange["ContextIdentifier"] == CTX
    assert exchange["ReturnTokenType"] == "JWT"
    signed = exchange["SignedSystemToken"]
    assert re.fullmatch(re.escape(SYSTEM_TOKEN) + r"\.\d{12}\.[A-Za-z0-9+/]+={0,2}", signed)
    introspection = next(data for path, data in stand_in.seen if path == "/login/common/oauth/introspect")
    ticket = introspection["form"]["token"]
    assert ticket.startswith("7T:") and introspection["form"]["app_token"] == CLIENT_SECRET
    assert introspection["authorization"].startswith("Basic ")
    page = text_of(response)
    assert "The platform accepted the signed token" in page
    assert ticket in page
    assert "SuperOffice AS" in page and f"spn:{SERIAL}" in page
    assert "system_user True" in " ".join(page.split())


def test_system_user_exchange_shows_why_the_platform_refused(service, stand_in, other_partner_key):
    sign_in(service, stand_in)
    stand_in.partner_public_key = other_partner_key.public_key()  # the platform knows another key

    response = post(service, "/system-user")

    assert response.status_code == 502
    assert "The platform refused the signed token: InvalidSignature" in text_of(response)


def test_system_user_jwt_that_does_not_verify_is_not_trusted(service, stand_in):
    sign_in(service, stand_in)
    stand_in.ticket_jwt_key = RSAKey.generate_key(2048, parameters={"kid": stand_in.platform_key.kid})

    response = post(service, "/system-user")

    assert response.status_code == 502
    assert "did not verify against the platform's JWKS" in text_of(response)
    assert "7T:" not in text_of(response)
    assert not any(path == "/login/common/oauth/introspect" for path, _ in stand_in.seen)


def test_system_user_needs_the_system_token_claim(service, stand_in):
    stand_in.id_token_changes = {CLAIM_PREFIX + "system_token": None}
    sign_in(service, stand_in)

    response = post(service, "/system-user")

    assert response.status_code == 400
    assert "no system_token claim" in text_of(response)


def test_introspect_shows_the_access_token_is_active(service, stand_in):
    sign_in(service, stand_in)
    response = post(service, "/introspect")

    page = " ".join(text_of(response).split())
    assert response.status_code == 200
    assert "Active" in page and f"ctx {CTX}" in page and f"client_id {CLIENT_ID}" in page
    assert "system_user False" in page


def test_refresh_gets_new_tokens(service, stand_in):
    sign_in(service, stand_in)
    first = set(stand_in.access_tokens)

    response = post(service, "/refresh")

    assert response.status_code == 302
    refresh_call = [data for path, data in stand_in.seen if path == "/login/common/oauth/tokens"][-1]
    assert refresh_call["form"]["grant_type"] == "refresh_token"
    assert f"Tokens refreshed: a new access token for {CTX}" in text_of(service.get("/"))
    new = (stand_in.access_tokens - first).pop()
    post(service, "/introspect")
    assert [data for path, data in stand_in.seen if path == "/login/common/oauth/introspect"][-1][
        "form"]["token"] == new


def test_refresh_refused_by_the_platform_is_shown(service, stand_in):
    sign_in(service, stand_in)
    stand_in.refresh_tokens.clear()  # the administrator revoked the app

    response = post(service, "/refresh")

    assert response.status_code == 400
    assert "invalid_grant" in text_of(response) and "Authorization revoked." in text_of(response)


def test_sign_out_ends_the_platform_session_too(service, stand_in):
    sign_in(service, stand_in)

    response = post(service, "/logout")

    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    end_session = f"{stand_in.issuer}/login/common/oauth/logout"
    assert f"{location.scheme}://{location.netloc}{location.path}" == end_session
    assert query["post_logout_redirect_uri"] == POST_LOGOUT_URI
    assert query["id_token_hint"].count(".") == 2
    assert "Sign in with" in text_of(service.get("/"))
    back = service.get("/", query_string={"state": query["state"]}, follow_redirects=True)
    assert "You are signed out here and at the platform." in text_of(back)


def test_forms_need_the_csrf_token(service, stand_in):
    sign_in(service, stand_in)
    for path in ("/system-user", "/introspect", "/refresh", "/logout"):
        response = service.post(path, data={"csrf": "forged"})
        assert response.status_code == 400
        assert "The form has expired" in text_of(response)
    assert "Signed in as" in text_of(service.get("/"))


# --- State-change notifications at /webhook ----------------------------------------------

def state_change(stand_in, *, change_type=2, key=None, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": stand_in.issuer, "aud": CLIENT_ID, "ctx": CTX, "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4()), **changes}
    key = key or stand_in.platform_key
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    return {"ChangeType": change_type, "ContextIdentifier": CTX, "VersionName": "10.3",
            "FileVersion": "10.3", "PublicEndpoint": "https://sod.crm.example/Cust12345", "Token": token}


def test_a_verified_notification_is_acknowledged_and_shown(service, stand_in):
    body = state_change(stand_in, change_type=100)

    response = service.post("/webhook", json=body)

    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    jti = response.get_json()["jti"]
    page = text_of(service.get("/"))
    assert "Installed (100)" in page and CTX in page and jti in page and "10.3" in page
    # The keys came from the platform's JWKS over HTTP.
    assert "/login/.well-known/jwks" in [path for path, _ in stand_in.seen]


def test_a_repeated_event_id_is_acknowledged_once(service, stand_in):
    body = state_change(stand_in, change_type=4)
    first = service.post("/webhook", json=body)
    # A retry: the same event ID in a Token signed again.
    retry = state_change(stand_in, change_type=4, jti=first.get_json()["jti"])
    again = service.post("/webhook", json=retry)

    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert text_of(service.get("/")).count(first.get_json()["jti"]) == 1


def stamped(stand_in, occurred: datetime, *, change_type: int, ctx: str = CTX) -> dict:
    """A notification made at ``occurred``: OccurredAt in the body, occurred_at in the Token."""
    body = state_change(stand_in, change_type=change_type, ctx=ctx, occurred_at=int(occurred.timestamp()))
    return {**body, "ContextIdentifier": ctx,
            "OccurredAt": occurred.isoformat(timespec="microseconds").replace("+00:00", "Z")}


def event_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="event[^"]*">(.*?)</tr>', page, re.S)


def test_events_are_shown_by_occurred_at_and_an_older_one_arriving_late_is_not_applied(service, stand_in):
    made = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    later = made + timedelta(minutes=5)
    uninstalled = service.post("/webhook", json=stamped(stand_in, later, change_type=102))
    # The Installed made before it arrives after it (a retry): acknowledged, not applied.
    installed = service.post("/webhook", json=stamped(stand_in, made, change_type=100))
    other = service.post("/webhook", json=stamped(stand_in, made, change_type=100, ctx="Cust55555"))

    assert uninstalled.get_json()["status"] == "ok" and other.get_json()["status"] == "ok"
    assert installed.status_code == 200 and installed.get_json()["status"] == "ignored"
    page = service.get("/").get_data(as_text=True)
    rows = event_rows(page)
    assert "Uninstalled (102)" in rows[0] and "arrived late" not in rows[0]
    assert "2026-12-04 09:05:00 UTC" in rows[0]
    late = [row for row in rows if CTX in row and "Installed (100)" in row]
    assert len(late) == 1 and "arrived late, ignored" in late[0]
    # Another tenant's older event is not late: ordering is per tenant.
    assert not any("Cust55555" in row and "arrived late" in row for row in rows)
    current = page.split("Current state by tenant")[1].split("</table>")[0]
    assert re.search(rf"{CTX}</code></td><td>Uninstalled<", current)
    assert re.search(r"Cust55555</code></td><td>Installed<", current)


def test_an_occurred_at_that_does_not_match_the_token_is_refused(service, stand_in):
    made = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    body = {**stamped(stand_in, made, change_type=2), "OccurredAt": "2026-12-04T10:00:00Z"}
    response = service.post("/webhook", json=body)
    assert response.status_code == 401 and "OccurredAt" in response.get_json()["error_description"]
    assert "None yet." in text_of(service.get("/"))


@pytest.mark.parametrize("changes", [
    {"aud": "another-client"},
    {"iss": "http://elsewhere.example/sod"},
    {"exp": int(time.time()) - 3600},
    {"ctx": "Cust99999"},
    {"jti": ""},
], ids=["audience", "issuer", "expired", "tenant", "no-jti"])
def test_a_token_that_does_not_verify_is_refused(service, stand_in, changes):
    response = service.post("/webhook", json=state_change(stand_in, **changes))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert "None yet." in text_of(service.get("/"))


def test_a_token_signed_with_another_key_is_refused(service, stand_in):
    forged = RSAKey.generate_key(2048, parameters={"kid": stand_in.platform_key.kid})
    response = service.post("/webhook", json=state_change(stand_in, key=forged))
    assert response.status_code == 401
    assert "None yet." in text_of(service.get("/"))


@pytest.mark.parametrize("body", [None, [], {"ChangeType": 2}, {"Token": 5}])
def test_a_body_without_a_token_is_a_bad_request(service, body):
    response = service.post("/webhook", json=body) if body is not None else service.post(
        "/webhook", data="not json", content_type="text/plain")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


# --- Independence from the platform -------------------------------------------------------

def _platform_packages() -> set[str]:
    root = EXAMPLE_DIR.parents[1]
    rooms = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return (rooms - {"examples"}) | {"django", "rest_framework", "allauth", "celery", "drf_spectacular"}


def test_the_example_imports_nothing_from_the_platform():
    forbidden = _platform_packages()
    assert {"config", "appstore", "tests"} <= forbidden
    sources = sorted(EXAMPLE_DIR.rglob("*.py"))
    assert EXAMPLE_DIR / "app.py" in sources and EXAMPLE_DIR / "system_user.py" in sources
    for source in sources:
        text = source.read_text()
        assert not re.search(r"^\s*(import|from)\s+django\b", text, re.MULTILINE), source
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{source.name} imports {name}"

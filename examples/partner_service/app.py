"""Reference partner service: sign a user in with the platform and act as the tenant's system user.

A partner copies this folder, points the settings file at its own app and runs it. It talks to
the platform over HTTP only (OpenID Connect, the system-user exchange, token introspection).

Run from the platform checkout:   python -m examples.partner_service
or on its own:                     python examples/partner_service/app.py
Settings: a JSON file named by PARTNER_SETTINGS (default var/demo/acme.json); see README.md.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import OrderedDict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response

try:
    from .system_user import sign_system_token
except ImportError:  # run as a script: python examples/partner_service/app.py
    from system_user import sign_system_token

DEFAULT_SETTINGS = "var/demo/acme.json"
DEFAULT_PORT = 8001
# The platform's own claims in the id_token and the system-user JWT carry this prefix.
CLAIM_PREFIX = "http://schemes.superoffice.net/identity/"
REQUIRED_SETTINGS = ("issuer", "client_id", "client_secret", "redirect_uri")
HTTP_TIMEOUT = 10  # seconds; never wait forever on another service
TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")
# The ChangeType of a state-change notification (the platform's SPEC §6).
CHANGE_TYPES = {0: "Upgrade", 1: "BackupRestored", 2: "Suspend", 3: "Resume", 4: "Delete", 5: "Move",
                100: "Installed", 101: "Reapproved", 102: "Uninstalled"}
EVENTS_SHOWN = 20
SEEN_EVENTS_KEPT = 10_000  # a real service keeps handled event IDs in its database

bp = Blueprint("partner", __name__)


# --- Settings -------------------------------------------------------------------------------

class SettingsMissing(Exception):
    """The settings file does not exist yet (the platform's demo data has not been loaded)."""


class SettingsInvalid(Exception):
    """The settings file exists but cannot be used."""


class PlatformError(Exception):
    """The platform answered something this service cannot use; shown to the user as is."""

    def __init__(self, title: str, description: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.description = description


def load_settings(path: Path) -> dict[str, Any]:
    """Read and check the settings file (read on every request, so a rewritten file takes effect)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsMissing(str(path)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsInvalid(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsInvalid(f"{path} must hold a JSON object.")
    missing = [key for key in REQUIRED_SETTINGS if not data.get(key)]
    if missing:
        raise SettingsInvalid(f"{path} lacks: {', '.join(missing)}.")
    data["issuer"] = data["issuer"].rstrip("/")
    return data


def settings() -> dict[str, Any]:
    if "partner_settings" not in g:
        g.partner_settings = load_settings(Path(current_app.config["PARTNER_SETTINGS"]))
    return g.partner_settings


# --- The OAuth client -----------------------------------------------------------------------

def platform() -> FlaskOAuth2App:
    """The Authlib client for the platform's login service, rebuilt when the settings change."""
    conf = settings()
    state = current_app.extensions["partner_service"]
    fingerprint = json.dumps(conf, sort_keys=True)
    if state.get("fingerprint") != fingerprint:
        oauth = OAuth(current_app._get_current_object())
        state["client"] = oauth.register(
            "platform",
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            # Discovery gives every endpoint, the JWKS location and the issuer to check.
            server_metadata_url=f"{conf['issuer']}/.well-known/openid-configuration",
            client_kwargs={
                "scope": "openid",
                "code_challenge_method": "S256",  # PKCE
                "token_endpoint_auth_method": "client_secret_basic",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
        state["fingerprint"] = fingerprint
    return state["client"]


def metadata(name: str) -> str:
    value = platform().load_server_metadata().get(name)
    if not value:
        raise PlatformError("Incomplete discovery document", f"The platform's discovery lacks {name}.")
    return value


# --- Who is signed in -----------------------------------------------------------------------
# Tokens stay on the server; the browser's session cookie only holds a random key to them.
# A real service keeps them in its database, next to its own user record.

def tokens() -> dict[str, dict[str, Any]]:
    return current_app.extensions["partner_service"]["tokens"]


def signed_in() -> dict[str, Any] | None:
    return tokens().get(session.get("sid", ""))


def sign_in(record: dict[str, Any]) -> None:
    sign_out_here()
    session["sid"] = secrets.token_urlsafe(32)  # a new key at sign-in, never a reused one
    tokens()[session["sid"]] = record


def sign_out_here() -> None:
    tokens().pop(session.pop("sid", ""), None)


def record_tokens(record: dict[str, Any], token: dict[str, Any], claims: dict[str, Any] | None) -> None:
    record["access_token"] = token["access_token"]
    record["refresh_token"] = token.get("refresh_token") or record.get("refresh_token")
    record["expires_at"] = token.get("expires_at")
    if claims is not None:
        record["claims"] = dict(claims)
        record["id_token"] = token["id_token"]


def tenant_of(access_token: str) -> str | None:
    """Access tokens look like ``8A:<ctx>.<random>``: they name their tenant."""
    head, dot, _ = access_token.partition(".")
    if not dot or not head.startswith("8A:"):
        return None
    return head[3:]


# --- Forms are protected against cross-site posting -----------------------------------------

def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.before_app_request
def check_csrf() -> Any:
    # The webhook is called by the platform, not a browser: its signed Token is its proof.
    if request.method == "POST" and request.endpoint != "partner.webhook":
        sent = request.form.get("csrf", "")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            return error_page("The form has expired", "Go back to the home page and try again.", status=400)
    return None


@bp.after_app_request
def security_headers(response: Response) -> Response:
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"  # pages show tokens
    return response


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    try:
        conf = settings()
    except (SettingsMissing, SettingsInvalid):
        conf = {}
    return {
        "app_name": conf.get("app_name") or "Partner service",
        "platform_name": conf.get("platform_name") or "CRM",
        "environment": conf.get("environment", ""),
        "csrf_token": csrf_token,
    }


# --- Errors ---------------------------------------------------------------------------------

def error_page(title: str, description: str = "", error: str = "", status: int = 400) -> tuple[str, int]:
    return render_template("error.html", title=title, description=description, error=error), status


@bp.app_errorhandler(SettingsMissing)
def settings_missing(exc: SettingsMissing) -> tuple[str, int]:
    return render_template("not_configured.html", path=os.path.abspath(str(exc))), 200


@bp.app_errorhandler(SettingsInvalid)
def settings_invalid(exc: SettingsInvalid) -> tuple[str, int]:
    return error_page("The settings file cannot be used", str(exc), status=500)


@bp.app_errorhandler(PlatformError)
def platform_error(exc: PlatformError) -> tuple[str, int]:
    return error_page(exc.title, exc.description, status=502)


@bp.app_errorhandler(requests.RequestException)
def platform_unreachable(exc: requests.RequestException) -> tuple[str, int]:
    return error_page("The platform could not be reached", str(exc), status=502)


# --- Pages ----------------------------------------------------------------------------------

@bp.get("/")
def home() -> Any:
    settings()  # no settings file: the not-configured page
    if request.args.get("state"):
        # Back from the platform's end-session endpoint: check the state we sent.
        try:
            platform().validate_logout_response()
            flash("You are signed out here and at the platform.")
        except OAuthError:
            flash("You are signed out here. The platform's sign-out answer was not ours.", "error")
        return redirect(url_for("partner.home"))

    record = signed_in()
    if record is None:
        return render_template("home.html", record=None, events=received_events(), states=current_states())
    claims = record["claims"]
    rows = [claim_row(name, value) for name, value in sorted(claims.items(), key=claim_order)]
    tenant = tenant_of(record["access_token"])
    return render_template(
        "home.html",
        record=record,
        rows=rows,
        tenant=tenant,
        ctx=claims.get(CLAIM_PREFIX + "ctx"),
        email=claims.get(CLAIM_PREFIX + "email") or claims.get("sub"),
        access_token_preview=record["access_token"][:24] + "…",
        expires_at=as_utc(record.get("expires_at")),
        events=received_events(), states=current_states(),
    )


@bp.get("/login")
def login() -> Response:
    # Authlib adds state, nonce (the scope has openid) and the PKCE S256 challenge, and keeps
    # them in the session for /callback.
    return platform().authorize_redirect(settings()["redirect_uri"])


@bp.get("/callback")
def callback() -> Any:
    client = platform()
    try:
        # Exchanges the code (with the PKCE verifier) and verifies the id_token: signature
        # against the JWKS, iss, aud, exp and our nonce.
        token = client.authorize_access_token()
    except OAuthError as exc:
        # The platform sent ?error=...&error_description=... (say the administrator declined),
        # the state is not ours, or the token endpoint refused the code.
        description = exc.description or ""
        if exc.error == "mismatching_state":
            # Usually the browser began at another host name than the redirect URI's (localhost
            # against 127.0.0.1), so the session cookie with the state did not come back.
            description += f" Open this service at {settings()['redirect_uri'].removesuffix('/callback')}."
        return error_page("Sign-in did not complete", description, exc.error or "")
    except JoseError as exc:
        return error_page("The id_token could not be verified", exc.description, exc.error)
    if "userinfo" not in token:
        return error_page("Sign-in did not complete", "The token response had no id_token.")
    record: dict[str, Any] = {}
    record_tokens(record, token, token["userinfo"])
    sign_in(record)
    return redirect(url_for("partner.home"))


@bp.post("/system-user")
def system_user() -> Any:
    record = signed_in()
    if record is None:
        return redirect(url_for("partner.home"))
    conf = settings()
    claims = record["claims"]
    system_token = claims.get(CLAIM_PREFIX + "system_token")
    if not system_token:
        return error_page("No system user for this app",
                          "The id_token has no system_token claim: the app needs the SystemToken claim.")
    if not conf.get("private_key_pem"):
        return error_page("No private key", "The settings file has no private_key_pem to sign with.")

    # 1. Sign "<system_token>.<UTC yyyyMMddHHmm>" with the app's private key.
    signed = sign_system_token(system_token, conf["private_key_pem"])
    # 2. Exchange it for a JWT that carries a ticket for this tenant.
    response = requests.post(
        f"{conf['issuer']}/login/api/PartnerSystemUser/Authenticate",
        json={
            "SignedSystemToken": signed,
            "ApplicationToken": conf["client_secret"],
            "ContextIdentifier": claims.get(CLAIM_PREFIX + "ctx"),
            "ReturnTokenType": "JWT",
        },
        timeout=HTTP_TIMEOUT,
    )
    answer = json_answer(response, "The system-user exchange")
    page = {"signed": signed, "answer": answer}
    if not answer.get("IsSuccessful") or not answer.get("Token"):
        return render_template("system_user.html", **page), 502

    # 3. Verify the JWT against the platform's JWKS before trusting the ticket in it.
    try:
        serial = claims.get(CLAIM_PREFIX + "serial")
        jwt_claims = verify_platform_jwt(answer["Token"], audience=f"spn:{serial}")
    except JoseError as exc:
        return render_template("system_user.html", **page, jwt_error=f"{exc.error}: {exc.description}"), 502
    ticket = jwt_claims.get(CLAIM_PREFIX + "ticket")
    # 4. Ask the platform what it knows about the ticket (as a tenant's CRM API would).
    introspection = introspect(ticket, app_token=True) if ticket else None
    return render_template(
        "system_user.html",
        **page,
        jwt_rows=[claim_row(n, v) for n, v in sorted(jwt_claims.items(), key=claim_order)],
        ticket=ticket,
        introspection=introspection,
    )


@bp.post("/introspect")
def introspect_access_token() -> Any:
    record = signed_in()
    if record is None:
        return redirect(url_for("partner.home"))
    return render_template(
        "result.html",
        title="Introspection of the access token",
        intro="What the platform's introspection endpoint says about the signed-in user's access token.",
        result=introspect(record["access_token"]),
    )


@bp.post("/refresh")
def refresh() -> Any:
    record = signed_in()
    if record is None:
        return redirect(url_for("partner.home"))
    client = platform()
    try:
        token = client.fetch_access_token(grant_type="refresh_token", refresh_token=record["refresh_token"])
        # A refreshed id_token answers no authorization request, so there is no nonce to match.
        claims = client.parse_id_token(token, nonce=None) if "id_token" in token else None
    except OAuthError as exc:
        # invalid_grant: the administrator revoked the app or the tenant is gone.
        return error_page("The tokens could not be refreshed", exc.description or "", exc.error or "")
    except JoseError as exc:
        return error_page("The new id_token could not be verified", exc.description, exc.error)
    record_tokens(record, token, claims)
    tenant = tenant_of(token["access_token"]) or "an unknown tenant"
    flash(f"Tokens refreshed: a new access token for {tenant}.")
    return redirect(url_for("partner.home"))


@bp.post("/logout")
def logout() -> Response:
    record = signed_in()
    sign_out_here()
    if record is None:
        return redirect(url_for("partner.home"))
    # RP-initiated logout: the platform ends its session too, then sends the browser back.
    return platform().logout_redirect(
        post_logout_redirect_uri=settings().get("post_logout_redirect_uri")
        or url_for("partner.home", _external=True),
        id_token_hint=record["id_token"],
    )


# --- State-change notifications and app webhooks --------------------------------------------
# The platform posts {"ChangeType", "ContextIdentifier", "VersionName", "FileVersion",
# "PublicEndpoint", "OccurredAt", "Token"} when a tenant that installed the app changes state, or
# installs, re-approves or uninstalls it. A failed delivery (no 2xx answer) is retried with the same
# event ID (the Token's jti), so an event that was handled already is acknowledged and skipped.
# Events can arrive out of order (a retry an hour later): each tenant's state follows the newest
# OccurredAt applied, and an older event arriving after it is acknowledged but not applied.

def received_events() -> list[dict[str, Any]]:
    """The events kept, newest occurrence first (not in the order they arrived)."""
    events = current_app.extensions["partner_service"]["events"]
    return sorted(events, key=lambda event: event["occurred_key"], reverse=True)


def current_states() -> list[dict[str, Any]]:
    applied = current_app.extensions["partner_service"]["applied"]
    return [{"ctx": ctx, **event} for ctx, event in sorted(applied.items())]


def occurred_at(body: dict[str, Any], claims: dict[str, Any]) -> datetime | None:
    """The event's time from the body, checked against the signed occurred_at claim (whole seconds);
    None when the body's time is not a valid ISO 8601 time or does not match the claim."""
    text, signed = body.get("OccurredAt"), claims.get("occurred_at")
    if not isinstance(text, str):
        return datetime.fromtimestamp(signed, UTC) if isinstance(signed, int) else datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    moment = moment.astimezone(UTC)
    if isinstance(signed, int) and int(moment.timestamp()) != signed:
        return None
    return moment


def webhook_refusal(status: int, error: str, description: str) -> tuple[Response, int]:
    return jsonify({"error": error, "error_description": description}), status


@bp.post("/webhook")
def webhook() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("Token"), str):
        return webhook_refusal(400, "invalid_request", "Expected a JSON object with a Token.")
    conf = settings()
    try:
        # Signed by the platform (JWKS), for this app (aud), by this environment (iss), not expired.
        claims = verify_platform_jwt(body["Token"], audience=conf["client_id"], issuer=conf["issuer"])
    except JoseError as exc:
        return webhook_refusal(401, "invalid_token", f"{exc.error}: {exc.description or ''}".strip())
    jti, ctx = claims.get("jti"), claims.get("ctx")
    if not jti or ctx != body.get("ContextIdentifier"):
        return webhook_refusal(401, "invalid_token", "The Token has no jti or names another tenant.")
    moment = occurred_at(body, claims)
    if moment is None:
        return webhook_refusal(401, "invalid_token",
                               "OccurredAt is not an ISO 8601 time matching the Token's occurred_at.")
    state = current_app.extensions["partner_service"]
    if jti in state["seen"]:
        return jsonify({"status": "duplicate", "jti": jti})
    state["seen"][jti] = True
    while len(state["seen"]) > SEEN_EVENTS_KEPT:
        state["seen"].popitem(last=False)
    change_type = body.get("ChangeType")
    change_name = CHANGE_TYPES.get(change_type, f"Unknown ({change_type})")
    shown_time = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    current = state["applied"].get(ctx)
    late = current is not None and moment < current["occurred"]
    if not late:
        state["applied"][ctx] = {"occurred": moment, "occurred_at": shown_time, "change_name": change_name,
                                 "jti": jti}
    state["events"].appendleft({
        "jti": jti, "ctx": ctx, "change_type": change_type, "change_name": change_name,
        "version": body.get("VersionName") or "", "public_endpoint": body.get("PublicEndpoint") or "",
        "occurred_at": shown_time, "occurred_key": moment.isoformat(), "late": late,
        "received_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    })
    if late:
        # Acknowledged (2xx), so the platform stops retrying, but not applied: a newer event was.
        reason = f"Arrived late: {ctx} already applied an event of {current['occurred_at']}."
        return jsonify({"status": "ignored", "jti": jti, "reason": reason})
    return jsonify({"status": "ok", "jti": jti})


# --- Talking to the platform ----------------------------------------------------------------

def json_answer(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PlatformError(f"{what} did not answer JSON",
                            f"HTTP {response.status_code}: {response.text[:300]}")
    return answer


def introspect(token: str, app_token: bool = False) -> dict[str, Any]:
    """RFC 7662 introspection with this app's own credentials (HTTP Basic)."""
    conf = settings()
    data = {"token": token}
    if app_token:  # a system-user ticket is only valid together with the app's secret
        data["app_token"] = conf["client_secret"]
    response = requests.post(metadata("introspection_endpoint"), data=data,
                             auth=(conf["client_id"], conf["client_secret"]), timeout=HTTP_TIMEOUT)
    if response.status_code != 200:
        raise PlatformError("Introspection failed", f"HTTP {response.status_code}: {response.text[:300]}")
    return json_answer(response, "Introspection")


def verify_platform_jwt(token: str, audience: str, issuer: str | None = None) -> dict[str, Any]:
    """Verify an RS256 JWT from the platform: signature against the JWKS, aud, exp and, when
    given, iss."""
    client = platform()
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(client.fetch_jwk_set()), algorithms=["RS256"])
    except InvalidKeyIdError:  # the platform has rotated its keys since we fetched them
        decoded = jwt.decode(token, KeySet.import_key_set(client.fetch_jwk_set(force=True)),
                             algorithms=["RS256"])
    # The system-user JWT's iss is "SuperOffice AS", kept by the platform for compatibility, so
    # its caller passes no issuer.
    expected = {"aud": {"essential": True, "value": audience}, "exp": {"essential": True}}
    if issuer is not None:
        expected["iss"] = {"essential": True, "value": issuer}
    registry = jwt.JWTClaimsRegistry(leeway=60, **expected)
    registry.validate(decoded.claims)
    return decoded.claims


# --- Showing claims -------------------------------------------------------------------------

def claim_order(item: tuple[str, Any]) -> tuple[bool, str]:
    return item[0].startswith(CLAIM_PREFIX), item[0]  # standard claims first


def claim_row(name: str, value: Any) -> dict[str, Any]:
    short = name.removeprefix(CLAIM_PREFIX)
    note = as_utc(value) if name in TIME_CLAIMS else ""
    return {"name": short, "full_name": name, "prefixed": short != name, "value": value, "note": note}


def as_utc(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- The app --------------------------------------------------------------------------------

def create_app(settings_path: str | os.PathLike[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        # Random per process unless given: restarting signs everyone out, which a demo can afford.
        SECRET_KEY=os.environ.get("PARTNER_SECRET_KEY") or secrets.token_hex(32),
        # Cookies ignore ports: a name of our own keeps clear of the platform's on the same host.
        SESSION_COOKIE_NAME="partner_session",
        SESSION_COOKIE_SAMESITE="Lax",  # still sent when the platform redirects back to /callback
        SESSION_COOKIE_HTTPONLY=True,
        PARTNER_SETTINGS=str(settings_path or os.environ.get("PARTNER_SETTINGS") or DEFAULT_SETTINGS),
    )
    app.extensions["partner_service"] = {"tokens": {}, "events": deque(maxlen=EVENTS_SHOWN),
                                         "seen": OrderedDict(), "applied": {}}
    app.register_blueprint(bp)
    return app


def main() -> None:
    port = int(os.environ.get("PARTNER_PORT") or DEFAULT_PORT)
    create_app().run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()

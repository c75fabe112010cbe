"""Who is calling: the sandbox asks the platform's login service (RFC 7662 introspection, over HTTP
only) about the bearer token or system-user ticket, and caches a positive answer briefly."""

import hashlib
import logging
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger("crm_sandbox")

CACHE_SECONDS = 60
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Caller:
    client_id: str
    ctx: str
    integration_service: bool
    system_user: bool


class Unauthenticated(Exception):
    """No usable credentials (401)."""


class IntrospectionUnavailable(Exception):
    """The login service did not answer usefully (503)."""


def credentials(request: HttpRequest) -> tuple[str, str]:
    """(token, app_token) from ``Bearer <8A:…>`` or ``SOTicket <7T:…>`` with ``SO-AppToken``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or scheme.lower() not in {"bearer", "soticket"}:
        raise Unauthenticated("Send Authorization: Bearer <access token>, or SOTicket <ticket> "
                              "with SO-AppToken.")
    if scheme.lower() == "soticket":
        app_token = request.META.get("HTTP_SO_APPTOKEN", "").strip()
        if not app_token or len(app_token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("A SOTicket needs the SO-AppToken header (the app's client secret).")
        return token, app_token
    return token, ""


def cache_key(token: str, app_token: str) -> str:
    # Never the token itself: a digest of the token and, for a ticket, the app token beside it.
    digest = hashlib.sha256(f"{token}\n{app_token}".encode()).hexdigest()
    return f"crm_sandbox:introspection:{digest}"


def introspection_url(environment_code: str) -> str:
    base = (getattr(settings, "CRM_SANDBOX_LOGIN_URL", "") or settings.SITE_URL).rstrip("/")
    return f"{base}/{environment_code}/login/common/oauth/introspect"


def introspect(environment_code: str, token: str, app_token: str) -> dict:
    """The login service's answer for the token; raises IntrospectionUnavailable when there is none."""
    data = {"token": token, **({"app_token": app_token} if app_token else {})}
    try:
        response = requests.post(introspection_url(environment_code), data=data,
                                 auth=(f"crm-sandbox-{environment_code}", settings.CRM_SANDBOX_CLIENT_SECRET),
                                 timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False)
    except requests.RequestException as exc:
        logger.warning("crm_sandbox introspection failed env=%s error=%s", environment_code,
                       type(exc).__name__)
        raise IntrospectionUnavailable from exc
    if response.status_code != 200:
        logger.warning("crm_sandbox introspection refused env=%s status=%s", environment_code,
                       response.status_code)
        raise IntrospectionUnavailable
    try:
        answer = response.json()
    except ValueError as exc:
        raise IntrospectionUnavailable from exc
    if not isinstance(answer, dict):
        raise IntrospectionUnavailable
    return answer


def authenticate(request: HttpRequest, environment_code: str) -> Caller:
    """The caller of this request; Unauthenticated when the token is missing or not active."""
    token, app_token = credentials(request)
    key = cache_key(token, app_token)
    cached = cache.get(key)
    if cached is not None:
        return Caller(**cached)
    answer = introspect(environment_code, token, app_token)
    if answer.get("active") is not True or not isinstance(answer.get("ctx"), str):
        raise Unauthenticated("The token is not active.")
    caller = Caller(client_id=str(answer.get("client_id", "")), ctx=answer["ctx"],
                    integration_service=answer.get("integration_service") is True,
                    system_user=answer.get("system_user") is True)
    exp = answer.get("exp")
    seconds = CACHE_SECONDS
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        seconds = min(CACHE_SECONDS, int(exp - time.time()))
    if seconds > 0:
        cache.set(key, caller.__dict__, seconds)
    return caller

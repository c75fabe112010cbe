"""The login service in the benchmark: the token endpoint (code exchange, refresh) and introspection.

Runs inside a configured Django against the benchmark database (bench/run.py). ``prepare`` makes,
once, a partner with one app whose sod configuration registers ``REDIRECT`` and a tenant whose admin
approved the app; every run gives the sod client a new secret, kept in memory only, and clears the
last run's codes and tokens. Codes and refresh tokens are single-use, so each request carries its
own: codes are minted as Grant rows; refresh tokens come from a few codes exchanged beforehand, and
every refresh's new token joins the queue for a later request.
"""

import base64
import itertools
import json
import math
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connections as db_connections
from django.utils import timezone

from accounts.models import User
from accounts.services import ensure_user
from appstore.models import App, AppClient, AppTemplate, Partner
from appstore.services.apps import create_app
from appstore.services.credentials import create_secret, delete_secret, secret_of
from appstore.services.partners import create_partner
from bench.loadgen import Measurement, Request, drive, form_post
from provisioning.models import (
    AccessToken,
    Authorization,
    Grant,
    IDToken,
    RefreshToken,
    SigningKey,
    SigningKeyState,
)
from provisioning.oidc.validator import redirect_uri_registered
from provisioning.services.authorizations import approve
from provisioning.services.signing_keys import active_jwk, active_key
from tenants.models import Environment
from tenants.services import ensure_tenant, ensure_tenant_member

ENVIRONMENT = "sod"
REDIRECT = "https://login-bench.example.com/callback"
# Not "bench-…": bench/data.py deletes and counts the partners whose SEO name starts with that.
PARTNER_NAME = "Login Bench Partner"
APP_NAME = "Login Bench App"
FOUNDER_EMAIL = "founder@login-bench.example.com"
CONTEXT = "Cust90001"
ADMIN_EMAIL = "admin@cust90001.example.com"
TOKEN_PATH = f"/{ENVIRONMENT}/login/common/oauth/tokens"
INTROSPECT_PATH = f"/{ENVIRONMENT}/login/common/oauth/introspect"
HEALTHZ = "/healthz"
CODE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class LoginBench:
    """The prepared app; the raw secret lives only here."""

    client_id: str
    secret: str = field(repr=False)
    application_id: int
    user_id: int
    authorization_id: int

    def _basic(self) -> dict[str, str]:
        pair = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}

    def code_exchange(self, code: str) -> Request:
        return form_post(TOKEN_PATH, {"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": REDIRECT}, self._basic())

    def refresh(self, refresh_token: str) -> Request:
        return form_post(TOKEN_PATH, {"grant_type": "refresh_token", "refresh_token": refresh_token},
                         self._basic())

    def introspection(self, access_token: str) -> Request:
        return form_post(INTROSPECT_PATH, {"token": access_token}, self._basic())


def _usable_signing_key(environment: Environment) -> None:
    """Each run seals new keys with its own random SECRET_KEY: replace an active key no run can read."""
    try:
        active_jwk(environment)
    except RuntimeError:
        SigningKey.objects.filter(environment=environment, state=SigningKeyState.ACTIVE).delete()
        active_key(environment)


def _clear_codes_and_tokens(application_id: int) -> None:
    Grant.objects.filter(application_id=application_id).delete()
    RefreshToken.objects.filter(application_id=application_id).delete()
    AccessToken.objects.filter(application_id=application_id).delete()
    IDToken.objects.filter(application_id=application_id).delete()


def prepare() -> LoginBench:
    """The app, its sod client with a fresh secret, the tenant, its admin and the authorization."""
    founder = ensure_user(email=FOUNDER_EMAIL, password=secrets.token_urlsafe(24),
                          full_name="Login Bench Founder")
    partner = Partner.objects.filter(name=PARTNER_NAME).first()
    if partner is None:
        partner = create_partner(founder=founder, name=PARTNER_NAME, website="https://login-bench.example.com")
    founder = User.objects.get(pk=founder.pk)  # without the permissions cached before the membership
    app = App.objects.filter(partner=partner, name=APP_NAME).first()
    if app is None:
        app = create_app(actor=founder, partner=partner, name=APP_NAME, template=AppTemplate.WEB,
                         redirect_urls=REDIRECT)
    app_client = AppClient.objects.select_related("login_client__environment", "environment").get(
        app=app, environment__code=ENVIRONMENT)
    login_client = app_client.login_client
    if not redirect_uri_registered(login_client, REDIRECT):
        raise RuntimeError(f"{APP_NAME}'s live {ENVIRONMENT} configuration does not register {REDIRECT}.")
    if secret_of(app_client) is not None:
        delete_secret(actor=founder, client=app_client)
    _, secret = create_secret(actor=founder, client=app_client)

    tenant = ensure_tenant(environment_code=ENVIRONMENT, context_identifier=CONTEXT,
                           company_name="Login Bench Customer AS", serial=90001)
    admin = ensure_user(email=ADMIN_EMAIL, password=secrets.token_urlsafe(24), full_name="Login Bench Admin")
    ensure_tenant_member(tenant=tenant, user=admin, is_admin=True)
    authorization = Authorization.objects.filter(app=app, tenant=tenant).first()
    if authorization is None or not authorization.is_usable:
        authorization = approve(app=app, tenant=tenant, user=User.objects.get(pk=admin.pk),
                                consent_text="Benchmark sign-in.")
    _clear_codes_and_tokens(login_client.pk)
    _usable_signing_key(tenant.environment)
    return LoginBench(client_id=login_client.client_id, secret=secret, application_id=login_client.pk,
                      user_id=admin.pk, authorization_id=authorization.pk)


def mint_codes(bench: LoginBench, count: int) -> list[str]:
    """``count`` authorization codes as the authorize endpoint stores them, valid for ten minutes."""
    expires = timezone.now() + CODE_LIFETIME
    codes = [secrets.token_urlsafe(30) for _ in range(count)]
    Grant.objects.bulk_create([
        Grant(application_id=bench.application_id, user_id=bench.user_id, code=code, expires=expires,
              redirect_uri=REDIRECT, scope="openid", claims="{}", authorization_id=bench.authorization_id)
        for code in codes], batch_size=2000)
    return codes


# ---------------------------------------------------------------- measuring

@dataclass(frozen=True)
class LoginRow:
    label: str
    result: Measurement


@dataclass
class LoginRun:
    ceiling: LoginRow  # /healthz through the same Python client
    rows: list[LoginRow]
    usage: dict[str, int]


class _Counted:
    """An iterator that counts what it handed out (drive takes items under its lock)."""

    def __init__(self, items: Iterable[Request]):
        self._items = iter(items)
        self.taken = 0

    def __iter__(self) -> Iterator[Request]:
        return self

    def __next__(self) -> Request:
        item = next(self._items)
        self.taken += 1
        return item


class _RefreshChain:
    """Refresh tokens as a queue: each is sent once, and every answer's new token joins the end, as a
    client keeps refreshing with the token it got last. The supply lasts while the answers succeed."""

    def __init__(self, bench: LoginBench, tokens: Iterable[str]):
        self.bench = bench
        self.queue = deque(tokens)
        self.taken = 0

    def __iter__(self) -> Iterator[Request]:
        return self

    def __next__(self) -> Request:
        try:
            token = self.queue.popleft()
        except IndexError:
            raise StopIteration from None
        self.taken += 1
        return self.bench.refresh(token)

    def keep(self, answer: dict) -> None:
        self.queue.append(answer["refresh_token"])

    def __call__(self, request: Request, status: int, body: bytes) -> None:
        if status == 200:
            self.keep(json.loads(body))


class _Answers:
    """Collects answers from drive's threads; remembers the first refusal for the error message."""

    def __init__(self, keep: Callable[[dict], None] | None = None):
        self.keep = keep
        self.refusal: tuple[int, bytes] | None = None

    def __call__(self, request: Request, status: int, body: bytes) -> None:
        if status != 200:
            self.refusal = self.refusal or (status, body[:300])
        elif self.keep is not None:
            self.keep(json.loads(body))


def _checked(base: str, requests: Iterable[Request], connections: int, what: str,
             keep: Callable[[dict], None] | None = None) -> Measurement:
    """Unmeasured traffic (warm-up, obtaining tokens) that must all succeed."""
    answers = _Answers(keep)
    result = drive(base, requests, seconds=None, connections=connections, on_response=answers)
    if result.errors:
        status, body = answers.refusal or (0, b"no answer")
        raise RuntimeError(f"{what}: {result.errors} of {result.requests} failed; first {status}: {body!r}")
    return result


def measure(base: str, bench: LoginBench, *, seconds: int, connections: int,
            progress: Callable[[str], None] = print) -> LoginRun:
    """/healthz, code exchange, refresh and introspection, each for ``seconds`` with the Python client."""
    db_connections.close_all()
    warm = 4 * connections
    usage: dict[str, int] = {}

    _checked(base, itertools.repeat(Request("GET", HEALTHZ), 20), connections, "Warming up /healthz")
    ceiling = LoginRow(f"{HEALTHZ} (Python client)",
                       drive(base, itertools.repeat(Request("GET", HEALTHZ)), seconds=seconds,
                             connections=connections))
    progress(f"  measured {ceiling.label} ({ceiling.result.rps:.0f} req/s)")

    # The token endpoint cannot outrun /healthz: that rate bounds the codes one run can use.
    _checked(base, map(bench.code_exchange, mint_codes(bench, warm)), connections, "Warming up code exchange")
    minted = math.ceil(ceiling.result.rps * seconds * 1.5) + connections
    codes = _Counted(map(bench.code_exchange, mint_codes(bench, minted)))
    db_connections.close_all()
    exchange = LoginRow(f"POST {TOKEN_PATH} code",
                        drive(base, codes, seconds=seconds, connections=connections))
    progress(f"  measured {exchange.label} ({exchange.result.rps:.0f} req/s, {codes.taken} codes)")
    usage.update(codes_minted=warm + minted, codes_measured=codes.taken)

    # Twice as many tokens as connections: the queue never empties while the answers come back.
    pool = 2 * connections
    chain = _RefreshChain(bench, [])
    _checked(base, map(bench.code_exchange, mint_codes(bench, pool)), connections,
             "Obtaining refresh tokens", keep=chain.keep)
    db_connections.close_all()
    usage.update(codes_minted=usage["codes_minted"] + pool, codes_for_refresh_tokens=pool)
    _checked(base, itertools.islice(chain, warm), connections, "Warming up refresh", keep=chain.keep)
    chain.taken = 0
    refresh = LoginRow(f"POST {TOKEN_PATH} refresh",
                       drive(base, chain, seconds=seconds, connections=connections, on_response=chain))
    progress(f"  measured {refresh.label} ({refresh.result.rps:.0f} req/s, {chain.taken} refresh tokens)")
    usage["refresh_tokens_measured"] = chain.taken

    # A rotated refresh token takes its access token with it: introspect one issued afterwards.
    access: list[str] = []
    _checked(base, map(bench.code_exchange, mint_codes(bench, 1)), 1, "Obtaining an access token",
             keep=lambda answer: access.append(answer["access_token"]))
    db_connections.close_all()
    usage["codes_minted"] += 1
    active: list[bool] = []
    _checked(base, itertools.repeat(bench.introspection(access[0]), 20), connections,
             "Warming up introspection", keep=lambda answer: active.append(answer.get("active") is True))
    if not all(active):
        raise RuntimeError("Introspection answered the fresh access token as inactive.")
    introspection = LoginRow(f"POST {INTROSPECT_PATH}",
                             drive(base, itertools.repeat(bench.introspection(access[0])), seconds=seconds,
                                   connections=connections))
    progress(f"  measured {introspection.label} ({introspection.result.rps:.0f} req/s)")
    usage["introspections_measured"] = introspection.result.requests
    return LoginRun(ceiling=ceiling, rows=[exchange, refresh, introspection], usage=usage)

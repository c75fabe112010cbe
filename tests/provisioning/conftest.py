"""A partner app registered in sod with a secret and a key, and two tenants with an admin and a member."""

import base64
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone

from appstore.models import App, AppClient
from appstore.services.credentials import create_secret, generate_certificate
from tenants.models import Tenant, TenantMember

from ..factories import AppFactory, PartnerMemberFactory, TenantFactory, TenantMemberFactory, environment

REDIRECT = "https://partner.example.com/callback"
PATTERN = r"^https://partner\.example\.com/cb/[a-z]+$"
POST_LOGOUT = "https://partner.example.com/bye"


@dataclass
class LoginApp:
    app: App
    client: AppClient
    client_id: str
    secret: str
    private_pem: str

    def sign(self, token: str, stamp: str) -> str:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        signature = key.sign(f"{token}.{stamp}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{token}.{stamp}.{base64.b64encode(signature).decode()}"


def register_app(*, claims=None, authorization_level="administrator", env="sod", name=None) -> LoginApp:
    member = PartnerMemberFactory()
    fields = {
        "redirect_urls": {"all": [REDIRECT, PATTERN]},
        "post_logout_redirect_urls": {"all": [POST_LOGOUT]},
        "consent_text": "Acme reads your companies and writes orders back.",
        "claims": claims if claims is not None else ["SystemToken"],
        "authorization_level": authorization_level,
    }
    app = AppFactory(
        partner=member.partner,
        **({"name": name} if name else {}),
        configured=True,
        **{f"configured__{key}": value for key, value in fields.items()},
    )
    client = AppClient.objects.get(app=app, environment__code=env)
    _, secret = create_secret(actor=member.user, client=client)
    _, private_pem, _ = generate_certificate(
        actor=member.user,
        client=client,
        description="test key",
        expires_at=timezone.now() + timedelta(days=365),
    )
    return LoginApp(
        app=app, client=client, client_id=client.client_id, secret=secret, private_pem=private_pem
    )


@pytest.fixture
def login_app(db) -> LoginApp:
    return register_app()


@dataclass
class TenantPeople:
    tenant: Tenant
    admin: TenantMember
    member: TenantMember


def tenant_with_people(ctx: str, env: str = "sod") -> TenantPeople:
    tenant = TenantFactory(context_identifier=ctx, environment=environment(env))
    admin = TenantMemberFactory(
        tenant=tenant, is_general_administrator=True, user__email=f"admin@{ctx.lower()}.example.com"
    )
    member = TenantMemberFactory(tenant=tenant, user__email=f"user@{ctx.lower()}.example.com")
    return TenantPeople(tenant, admin, member)


@pytest.fixture
def tenant_a(db) -> TenantPeople:
    return tenant_with_people("Cust10001")


@pytest.fixture
def tenant_b(db) -> TenantPeople:
    return tenant_with_people("Cust10002")


def authorize_url(login: LoginApp, env: str = "sod", **params) -> str:
    from django.utils.http import urlencode

    query = {
        "client_id": login.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "st-1",
        "nonce": "n-1",
        **params,
    }
    return f"/{env}/login/common/oauth/authorize?" + urlencode(
        {k: v for k, v in query.items() if v is not None}
    )


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {key: values[0] for key, values in parse_qs(parts.query or parts.fragment).items()}


@pytest.fixture
def receiver():
    """A partner endpoint: a real HTTP server on 127.0.0.1 that records what it is sent."""
    from ..http_receiver import start_receiver, stop_receiver

    server = start_receiver()
    yield server
    stop_receiver(server)

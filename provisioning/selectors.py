"""Reads of the login service: who is calling, tenants a user can sign in to, installed apps, and
the customer administration pages (a user's tenants and each tenant's installed apps)."""

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from appstore.models import ClientSecret
from appstore.selectors.store import live_listings
from tenants.models import Environment, Tenant, TenantMember

from .models import Authorization, AuthorizationStatus, LoginClient, ResourceServer

CLIENT_ID = re.compile(r"[0-9a-f]{32}")
# Resource servers registered by name (the CRM sandbox's crm-sandbox-<env>) besides generated ones.
RESOURCE_SERVER_ID = re.compile(r"[0-9a-f]{32}|crm-sandbox-[a-z]{1,16}")


def well_formed_client_id(value: object) -> bool:
    """Client IDs (and resource-server IDs) are 32 lowercase hex characters; anything else is unknown."""
    return isinstance(value, str) and CLIENT_ID.fullmatch(value) is not None


def client_credentials(authorization_header: str, body_client_id: str | None,
                       body_secret: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from HTTP Basic (RFC 6749 2.3.1), else from the body; None if neither or
    both (a client uses one method per request, RFC 6749 2.3)."""
    if (authorization_header or "").startswith("Basic "):
        if body_secret:
            return None
        try:
            decoded = base64.b64decode(authorization_header[6:].strip(), validate=True).decode("utf-8")
            client_id, secret = map(unquote_plus, decoded.split(":", 1))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return client_id, secret
    return (body_client_id, body_secret) if body_client_id and body_secret else None


def request_client_credentials(request: HttpRequest) -> tuple[str, str] | None:
    return client_credentials(request.META.get("HTTP_AUTHORIZATION", ""), request.POST.get("client_id"),
                              request.POST.get("client_secret"))


@dataclass
class IntrospectionCaller:
    client: LoginClient | None = None
    resource_server: ResourceServer | None = None

    def may_introspect(self, client: LoginClient) -> bool:
        return self.resource_server is not None or (self.client is not None and self.client.pk == client.pk)


def introspection_caller(request: HttpRequest, environment: Environment) -> IntrospectionCaller | None:
    credentials = request_client_credentials(request)
    if credentials is None:
        return None
    client_id, secret = credentials
    if not isinstance(client_id, str) or not RESOURCE_SERVER_ID.fullmatch(client_id) or len(secret) > 512:
        return None
    server = ResourceServer.objects.filter(environment=environment, client_id=client_id).first()
    if server is not None:
        valid = check_password(secret, server.secret_hash)
        return IntrospectionCaller(resource_server=server) if valid else None
    if not well_formed_client_id(client_id):
        return None
    client = LoginClient.objects_all.filter(environment=environment, client_id=client_id).first()
    if client is None:
        return None
    stored = ClientSecret.objects.filter(client_id=client.app_client_id).first()
    return IntrospectionCaller(client=client) if stored is not None and stored.matches(secret) else None


def login_tenants(user, environment: Environment) -> QuerySet[TenantMember]:
    """The user's memberships in tenants of one environment."""
    return (TenantMember.objects.filter(user=user, tenant__environment=environment)
            .select_related("tenant").order_by("tenant__company_name", "tenant__context_identifier"))


def authorization_for(app, tenant: Tenant) -> Authorization | None:
    return Authorization.objects.filter(app=app, tenant=tenant).select_related("approved_by").first()


def customer_memberships(user) -> QuerySet[TenantMember]:
    """Every tenant the user belongs to, in all environments."""
    return (TenantMember.objects.filter(user=user).select_related("tenant__environment")
            .order_by("tenant__environment__rank", "tenant__company_name", "tenant__context_identifier"))


def tenant_authorizations(tenant: Tenant) -> QuerySet[Authorization]:
    """The tenant's installed apps in every status, newest first; ``in_store`` is true for apps
    listed in the store."""
    return (Authorization.objects.filter(tenant=tenant)
            .select_related("app__partner", "approved_by", "revoked_by")
            .annotate(in_store=Exists(live_listings().filter(app_id=OuterRef("app_id"))),
                      installed_on=Coalesce("approved_at", "created_at"))
            .order_by("-installed_on", "-id"))


def tenant_authorization(tenant: Tenant, pk: int) -> Authorization | None:
    """One authorization of this tenant; another tenant's is None."""
    return Authorization.objects.filter(tenant=tenant, pk=pk).select_related("app__partner", "tenant").first()


def installed_companies(user, app_ids, environment_code: str) -> dict[int, str]:
    """App id → the user's companies in the environment where the app is active (names joined with
    ", "); registered as the store's ``appstore.installed.installed_lookup``."""
    rows = (Authorization.objects
            .filter(app_id__in=list(app_ids), tenant__members__user=user,
                    tenant__environment__code=environment_code, status=AuthorizationStatus.ACTIVE)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=timezone.now()))
            .order_by("tenant__company_name").values_list("app_id", "tenant__company_name"))
    companies: dict[int, list[str]] = {}
    for app_id, company in rows:
        companies.setdefault(app_id, []).append(company)
    return {app_id: ", ".join(names) for app_id, names in companies.items()}

"""What every ERP connection page starts with: the member, the app's authorization in the tenant of
the URL (another tenant's is a 404) and, for changes, the administrator check (403 for members)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest
from django.urls import reverse

from provisioning import selectors as provisioning_selectors
from provisioning.models import Authorization
from tenants.models import Tenant, TenantMember
from tenants.views_members import membership_or_404

from .. import selectors
from ..models import ErpConnection


@dataclass
class Scope:
    member: TenantMember
    tenant: Tenant
    authorization: Authorization

    @property
    def app(self):
        return self.authorization.app

    def url(self, name: str, *args) -> str:
        return reverse(f"erp:{name}", args=[self.tenant.environment.code, self.tenant.context_identifier,
                                            self.authorization.pk, *args])

    @property
    def apps_url(self) -> str:
        return reverse("my:apps", args=[self.tenant.environment.code, self.tenant.context_identifier])

    def require_admin(self) -> None:
        if not self.member.is_admin:
            raise PermissionDenied(
                f"Only the administrators of {self.tenant.company_name} can manage ERP connections.")

    def context(self, **extra) -> dict:
        return {"scope": self, "member": self.member, "tenant": self.tenant,
                "authorization": self.authorization, "app": self.app, **extra}


def scope_or_404(request: HttpRequest, env: str, ctx: str, authorization_pk: int) -> Scope:
    member = membership_or_404(request, env, ctx)
    authorization = provisioning_selectors.tenant_authorization(member.tenant, authorization_pk)
    if authorization is None:
        raise Http404("No such app in this company.")
    authorization.tenant = member.tenant  # the membership's copy carries the environment
    return Scope(member=member, tenant=member.tenant, authorization=authorization)


def connection_or_404(scope: Scope, guid: uuid.UUID) -> ErpConnection:
    connection = selectors.app_connection(scope.authorization, guid)
    if connection is None:
        raise Http404("No such ERP connection.")
    connection.authorization = scope.authorization
    connection.tenant = scope.tenant
    return connection


def page_of(request: HttpRequest, items, per_page: int, param: str = "page") -> Page:
    try:
        return Paginator(items, per_page).page(request.GET.get(param) or 1)
    except InvalidPage as exc:
        raise Http404("No such page.") from exc

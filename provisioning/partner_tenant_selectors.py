"""Reads of the partner's customers: the tenants that authorized one of the partner's apps.

Every query takes the partner explicitly and reaches authorizations only through its apps.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appstore.models import Partner
from tenants.models import Environment

from .models import TENANT_GONE_STATES, Authorization, AuthorizationStatus

# The status filter's values: the stored status with the to-date and re-approval applied.
STATUS_CHOICES = [
    ("active", "Active"),
    ("needs_reapproval", "Needs re-approval"),
    ("expired", "Expired"),
    ("revoked", "Revoked (uninstalled)"),
    ("tenant_deleted", "Tenant deleted"),
]


def tenant_deleted(tenant_path: str = "tenant__") -> Q:
    """The tenant is deleted or being deleted; ``tenant_path`` is the path to the tenant."""
    return Q(**{f"{tenant_path}state__in": TENANT_GONE_STATES})


def in_force(prefix: str = "", tenant_path: str = "tenant__") -> Q:
    """Active, not past its to-date, and its tenant not deleted; ``prefix`` is the path to the
    authorization and ``tenant_path`` to its tenant."""
    return Q(**{f"{prefix}status": AuthorizationStatus.ACTIVE}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": timezone.now()})
    ) & ~tenant_deleted(tenant_path)


def status_condition(status: str) -> Q:
    """The authorizations whose shown status is ``status`` (one of STATUS_CHOICES); a deleted
    tenant's authorizations show "Tenant deleted" whatever their stored status."""
    if status == "tenant_deleted":
        return tenant_deleted()
    if status == "active":
        return in_force() & Q(needs_reapproval=False)
    if status == "needs_reapproval":
        return in_force() & Q(needs_reapproval=True)
    if status == "expired":
        return (Q(status=AuthorizationStatus.EXPIRED)
                | Q(status=AuthorizationStatus.ACTIVE, valid_to__lte=timezone.now())) & ~tenant_deleted()
    return Q(status=AuthorizationStatus.REVOKED) & ~tenant_deleted()


@dataclass(frozen=True)
class TenantFilters:
    search: str = ""
    environment: str = ""
    app_id: int | None = None
    status: str = ""


def partner_authorizations(partner: Partner, filters: TenantFilters = TenantFilters()
                           ) -> QuerySet[Authorization]:
    """Authorizations of the partner's apps, with tenant, environment, app and approver, ordered
    by environment, company, context identifier and app."""
    rows = Authorization.objects.filter(app__partner=partner)
    if filters.environment:
        rows = rows.filter(tenant__environment__code=filters.environment)
    if filters.app_id is not None:
        rows = rows.filter(app_id=filters.app_id)
    if filters.status:
        rows = rows.filter(status_condition(filters.status))
    if filters.search:
        rows = rows.filter(Q(tenant__company_name__icontains=filters.search)
                           | Q(tenant__context_identifier__icontains=filters.search))
    return (rows.select_related("tenant__environment", "app", "approved_by", "activated_by")
            .order_by("tenant__environment__rank", "tenant__company_name", "tenant__context_identifier",
                      "app__name", "pk"))


def authorizing_tenant_counts(partner: Partner) -> list[Environment]:
    """Every environment with ``tenant_count``: its tenants where one of the partner's apps is
    authorized and in force (needing re-approval included; deleted tenants not), in one query."""
    condition = (Q(tenants__authorizations__app__partner=partner)
                 & in_force("tenants__authorizations__", "tenants__"))
    return list(Environment.objects.annotate(tenant_count=Count("tenants", distinct=True, filter=condition))
                .order_by("rank"))

"""Development tenants on demand: a partner member with the ``configuration`` permission gets a new
``sod`` tenant, with themselves as its administrator, to try the partner's apps against."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEntry
from audit.services import record
from tenants.models import Tenant, TenantState
from tenants.services.lifecycle import create_development_tenant

from ..models import Partner
from ..permissions import require_partner_permission

SUFFIX = "-SOD"
REQUESTED = "partner.development_tenant_requested"


def development_tenant_limit() -> int:
    return int(getattr(settings, "DEVELOPMENT_TENANTS_PER_PARTNER", 5))


def development_tenant_count(partner: Partner) -> int:
    """The partner's development tenants not deleted yet: those its audit log says it asked for."""
    requested = (AuditEntry.objects
                 .filter(event_type=REQUESTED, partner_id=partner.pk, tenant_id__isnull=False)
                 .values("tenant_id"))
    return (Tenant.objects.filter(pk__in=requested, environment__code="sod")
            .exclude(state=TenantState.DELETED).count())


def default_company_name(partner: Partner) -> str:
    return f"{partner.name[:200 - len(SUFFIX)]}{SUFFIX}"


@transaction.atomic
def request_development_tenant(*, actor, partner: Partner, company_name: str = "") -> Tenant:
    """A new sod tenant named ``company_name`` (default ``<partner name>-SOD``), provisioned by a task."""
    require_partner_permission(user=actor, partner=partner, permission="configuration")
    # One request per partner at a time, so two at once cannot both pass the limit.
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    limit = development_tenant_limit()
    if development_tenant_count(partner) >= limit:
        raise ValidationError(
            f"{partner.name} already has {limit} development tenants, the most a partner may have. "
            "Ask platform staff to delete one you no longer need (they can do it on its staff tenant page "
            "or with `manage.py tenant <Cust…> delete --env sod`), then ask again.", code="limit")
    name = " ".join((company_name or "").split()) or default_company_name(partner)
    if len(name) > 200:
        raise ValidationError({"company_name": "A company name has at most 200 characters."})
    tenant = create_development_tenant(actor=actor, company_name=name, source=AuditEntry.Source.PORTAL)
    # The partner's own log shows who asked for which tenant.
    record(event_type=REQUESTED, actor=actor, source=AuditEntry.Source.PORTAL,
           partner=partner, tenant=tenant,
           message=f"Development tenant {tenant.context_identifier} ({name}) requested in sod.")
    return tenant

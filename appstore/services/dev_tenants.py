"""Development tenants on demand: a partner member with the ``configuration`` permission gets a new
``sod`` tenant, with themselves as its administrator, to try the partner's apps against."""

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEntry
from audit.services import record
from tenants.models import Tenant
from tenants.services.lifecycle import create_development_tenant

from ..models import Partner
from ..permissions import require_partner_permission

SUFFIX = "-SOD"


def default_company_name(partner: Partner) -> str:
    return f"{partner.name[:200 - len(SUFFIX)]}{SUFFIX}"


@transaction.atomic
def request_development_tenant(*, actor, partner: Partner, company_name: str = "") -> Tenant:
    """A new sod tenant named ``company_name`` (default ``<partner name>-SOD``), provisioned by a task."""
    require_partner_permission(user=actor, partner=partner, permission="configuration")
    name = " ".join((company_name or "").split()) or default_company_name(partner)
    if len(name) > 200:
        raise ValidationError({"company_name": "A company name has at most 200 characters."})
    tenant = create_development_tenant(actor=actor, company_name=name, source=AuditEntry.Source.PORTAL)
    # The partner's own log shows who asked for which tenant.
    record(event_type="partner.development_tenant_requested", actor=actor, source=AuditEntry.Source.PORTAL,
           partner=partner, tenant=tenant,
           message=f"Development tenant {tenant.context_identifier} ({name}) requested in sod.")
    return tenant

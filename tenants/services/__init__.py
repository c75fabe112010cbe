from django.db import transaction

from accounts.models import User

from ..models import Environment, Tenant, TenantMember, TenantState


@transaction.atomic
def ensure_tenant(*, environment_code: str, context_identifier: str, company_name: str,
                  serial: int, webapi_url: str = "", public_endpoint: str = "") -> Tenant:
    """Create a running tenant if missing (idempotent); used by demo data and tests."""
    environment = Environment.objects.get(code=environment_code)
    tenant, _ = Tenant.objects.get_or_create(
        environment=environment,
        context_identifier=context_identifier,
        defaults={
            "company_name": company_name,
            "serial": serial,
            "state": TenantState.RUNNING,
            "webapi_url": webapi_url,
            "public_endpoint": public_endpoint,
        },
    )
    return tenant


@transaction.atomic
def ensure_tenant_member(*, tenant: Tenant, user: User, is_admin: bool = False) -> TenantMember:
    member, _ = TenantMember.objects.update_or_create(
        tenant=tenant, user=user,
        defaults={"is_general_administrator": is_admin},
    )
    return member

"""Provisioning and deleting a tenant's CRM, and the members' invitation e-mails."""

import logging

from celery import shared_task
from django.conf import settings

from .models import Tenant, TenantState

logger = logging.getLogger(__name__)


def build_crm(tenant: Tenant) -> dict:
    """Set up the tenant's CRM and return where it lives; the CRM sandbox serves every tenant here."""
    base = f"{settings.SITE_URL}/sandbox/{tenant.environment.code}/{tenant.context_identifier}"
    return {"public_endpoint": base, "webapi_url": f"{base}/api/",
            "version_label": getattr(settings, "TENANT_DEFAULT_VERSION", "10.4")}


def remove_crm(tenant: Tenant) -> None:
    """Tear the tenant's CRM down; the sandbox keeps no resources of its own per tenant."""


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def provision_tenant(tenant_id: int) -> str:
    from .services import lifecycle

    tenant = Tenant.objects.select_related("environment").filter(pk=tenant_id).first()
    if tenant is None or tenant.state != TenantState.PROVISIONING:
        return "skipped"
    try:
        defaults = build_crm(tenant)
    except Exception as exc:  # any failure is the tenant's reason, shown to staff
        logger.exception("Provisioning %s failed", tenant.context_identifier)
        lifecycle.provisioning_failed(tenant=tenant, reason=f"{type(exc).__name__}: {exc}")
        return "failed"
    lifecycle.provisioned(tenant=tenant, defaults=defaults)
    return "running"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def delete_tenant(tenant_id: int) -> str:
    from .services import lifecycle

    tenant = Tenant.objects.select_related("environment").filter(pk=tenant_id).first()
    if tenant is None or tenant.state != TenantState.DELETING:
        return "skipped"
    try:
        remove_crm(tenant)
    except Exception as exc:  # any failure is the tenant's reason, shown to staff
        logger.exception("Deleting %s failed", tenant.context_identifier)
        lifecycle.delete_failed(tenant=tenant, reason=f"{type(exc).__name__}: {exc}")
        return "failed"
    lifecycle.deleted(tenant=tenant)
    return "deleted"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_member_invited(member_id: int, new_account: bool, inviter_id: int | None = None) -> int:
    from .notifications import member_invited

    return member_invited(member_id=member_id, new_account=new_account, inviter_id=inviter_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_member_invitation(invitation_id: int, token: str) -> int:
    from .notifications import member_invitation

    return member_invitation(invitation_id=invitation_id, token=token)

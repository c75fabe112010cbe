"""Consent: approving an app for a tenant, re-approval after a configuration widened what the app
reaches, and uninstall. Every function checks the actor's rights itself."""

import secrets
import string

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from appstore.models import App, AuthorizationLevel
from appstore.selectors.configuration import live_configuration
from audit.models import AuditEntry
from audit.services import record
from tenants.models import Environment, Tenant, TenantMember
from tenants.signals import ChangeType

from ..models import (
    AccessToken,
    Authorization,
    AuthorizationError,
    AuthorizationStatus,
    Grant,
    RefreshToken,
    SystemUserTicket,
    tenant_gone,
)
from .notifications import notify_app_event

TOKEN_ALPHABET = string.ascii_letters + string.digits


class ConsentRefused(Exception):
    """The actor may not do this; ``code`` is the login service's authorization error code."""

    def __init__(self, code: AuthorizationError, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def system_user_token_for(app: App) -> str:
    return f"{app.name}-" + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(10))


def tenant_admin(user: User, tenant: Tenant) -> TenantMember | None:
    member = TenantMember.objects.filter(tenant=tenant, user=user).first()
    return member if member is not None and member.is_admin else None


def is_explicit(app: App, environment: Environment) -> bool:
    live = live_configuration(app, environment)
    return live is not None and live.authorization_level == AuthorizationLevel.EXPLICIT


def consent_grants(app: App, environment: Environment) -> list[str]:
    """What approving allows, in plain words, from the live configuration."""
    live = live_configuration(app, environment)
    grants = ["Sign you and the other users of your company in to the app with their CRM account."]
    if live is None:
        return grants
    if "SystemToken" in (live.claims or []):
        grants.append("Act as a system user in your CRM, which is not limited by any user's rights: "
                      "it can read and change all data.")
    endpoints = live.endpoints or {}
    if "Webhook" in (live.agents or []) or (endpoints.get("state_change") or {}).get("enabled"):
        grants.append("Receive notifications (webhooks) when your CRM or its data changes.")
    if (endpoints.get("mirroring") or {}).get("enabled"):
        grants.append("Keep a copy of your CRM database (database mirroring) at the partner.")
    if (endpoints.get("erp_sync") or {}).get("enabled"):
        grants.append("Synchronise companies, people and products between your CRM and an ERP system.")
    if (endpoints.get("quote") or {}).get("enabled"):
        grants.append("Fetch products, prices and stock for quotes from the partner's system.")
    return grants


@transaction.atomic
def approve(*, app: App, tenant: Tenant, user: User, consent_text: str) -> Authorization:
    """A tenant admin installs (or re-approves) the app for their tenant."""
    if tenant_admin(user, tenant) is None:
        raise ConsentRefused(AuthorizationError.DENIED, "Account does not have access.")
    # Two administrators approving at once queue on the tenant's row, so the second one finds the
    # authorization the first created instead of creating it again.
    Tenant.objects.select_for_update().only("pk").get(pk=tenant.pk)
    existing = Authorization.objects.select_for_update().filter(app=app, tenant=tenant).first()
    if is_explicit(app, tenant.environment) and (existing is None or existing.activated_by_id is None):
        raise ConsentRefused(AuthorizationError.DENIED, (
            f"{app.name} is a custom app: it is activated for one customer by the platform's staff "
            "after the partner requests it, and cannot be approved here."))
    now = timezone.now()
    grants = consent_grants(app, tenant.environment)
    if existing is None:
        authorization = Authorization.objects.create(
            app=app, tenant=tenant, approved_by=user, approved_at=now, valid_from=now,
            consent_text=consent_text, consent_grants=grants, system_user_token=system_user_token_for(app))
        event = "app.installed"
        message = f"{app.name} installed in {tenant.context_identifier} by {user.email}"
    else:
        authorization = existing
        was = existing.current_status
        event = "app.reapproved" if was == AuthorizationStatus.ACTIVE else "app.installed"
        authorization.status = AuthorizationStatus.ACTIVE
        authorization.needs_reapproval = False
        authorization.reapproval_reason = ""
        authorization.approved_by = user
        authorization.approved_at = now
        authorization.valid_to = None if was == AuthorizationStatus.EXPIRED else authorization.valid_to
        authorization.revoked_at = None
        authorization.revoked_by = None
        authorization.consent_text = consent_text
        authorization.consent_grants = grants
        authorization.save()
        message = (f"{app.name} {'re-approved' if event == 'app.reapproved' else 'installed again'} "
                   f"in {tenant.context_identifier} by {user.email}")
    if event == "app.installed":
        count_install(app, tenant, +1)
    record(event_type=event, actor=user, source=AuditEntry.Source.CONSENT, partner=app.partner, app=app,
           tenant=tenant, message=message)
    notify_app_event(authorization=authorization,
                     change_type=ChangeType.INSTALLED if event == "app.installed" else ChangeType.REAPPROVED)
    return authorization


# The store's install count is the number of customers running the app in production.
COUNTED_ENVIRONMENT = "online"


def count_install(app: App, tenant: Tenant, delta: int) -> None:
    """Add ``delta`` to the store's install count when the tenant is a production one."""
    if tenant.environment.code == COUNTED_ENVIRONMENT:
        App.objects.filter(pk=app.pk).update(install_count=Greatest(F("install_count") + delta, 0))


def _revoke_credentials(authorization: Authorization) -> None:
    now = timezone.now()
    RefreshToken.objects.filter(authorization=authorization, revoked__isnull=True).update(revoked=now)
    AccessToken.objects.filter(authorization=authorization).delete()
    SystemUserTicket.objects.filter(authorization=authorization).delete()
    Grant.objects.filter(authorization=authorization).delete()  # codes not yet exchanged


@transaction.atomic
def uninstall(*, authorization: Authorization, user: User) -> Authorization:
    """A tenant admin removes the app: revoked at once, the tenant's data kept."""
    authorization = (
        Authorization.objects.select_for_update(of=("self",))
        .select_related("app__partner", "tenant__environment")
        .get(pk=authorization.pk)
    )
    if tenant_admin(user, authorization.tenant) is None:
        raise ConsentRefused(AuthorizationError.DENIED,
                             "Only the tenant's administrators can uninstall apps.")
    if tenant_gone(authorization.tenant):
        raise ConsentRefused(AuthorizationError.DENIED,
                             "The tenant was deleted; its apps cannot be uninstalled.")
    if authorization.status == AuthorizationStatus.REVOKED:
        return authorization
    authorization.status = AuthorizationStatus.REVOKED
    authorization.revoked_at = timezone.now()
    authorization.revoked_by = user
    authorization.save(update_fields=["status", "revoked_at", "revoked_by"])
    _revoke_credentials(authorization)
    app, tenant = authorization.app, authorization.tenant
    count_install(app, tenant, -1)
    record(event_type="app.uninstalled", actor=user, source=AuditEntry.Source.CONSENT, partner=app.partner,
           app=app, tenant=tenant,
           message=f"{app.name} uninstalled from {tenant.context_identifier} by {user.email}")
    notify_app_event(authorization=authorization, change_type=ChangeType.UNINSTALLED)
    from ..tasks import send_uninstall_report

    transaction.on_commit(lambda: send_uninstall_report.delay(authorization.pk))
    return authorization


@transaction.atomic
def mark_needs_reapproval(*, app: App, environment: Environment, widened: list[str]) -> int:
    """After a configuration widened what the app reaches, members are refused until an admin
    approves again."""
    reason = "The app now also asks for: " + ", ".join(widened)
    count = (Authorization.objects.filter(app=app, tenant__environment=environment,
                                          status=AuthorizationStatus.ACTIVE, needs_reapproval=False)
             .update(needs_reapproval=True, reapproval_reason=reason[:300]))
    if count:
        record(event_type="app.needs_reapproval", source=AuditEntry.Source.SYSTEM, partner=app.partner,
               app=app, message=f"{count} installation(s) in {environment.code} need re-approval. {reason}")
    return count

"""A tenant's members: its administrators invite people by e-mail, remove them and grant or
withdraw administrator rights. A tenant always keeps one administrator.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email as django_validate_email
from django.db import transaction
from django.db.models import Q

from accounts.services import get_or_create_invited_user, normalise_email
from audit.models import AuditEntry
from audit.services import record

from ..models import Tenant, TenantMember, TenantState
from .lifecycle import TenantError, signed


class LastAdministrator(TenantError):
    pass


class TenantClosed(TenantError):
    pass


def validate_email(email: str) -> str:
    email = normalise_email(email)
    try:
        django_validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from exc
    if len(email) > 254:
        raise ValidationError({"email": "An e-mail address has at most 254 characters."})
    return email


def require_tenant_admin(*, user, tenant: Tenant) -> TenantMember:
    member = None
    if getattr(user, "is_authenticated", False):
        member = TenantMember.objects.filter(tenant=tenant, user=user).first()
    if member is None or not member.is_admin:
        raise PermissionDenied(f"Only the administrators of {tenant.company_name} can manage its members.")
    return member


# A tenant being deleted or deleted keeps its members as they were.
CLOSED = (TenantState.DELETING, TenantState.DELETED)


def _lock(tenant: Tenant) -> None:
    # One membership change per tenant at a time, so two demotions cannot leave it without an administrator.
    state = Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("state", flat=True).first()
    if state in CLOSED:
        raise TenantClosed(f"{tenant.company_name} is {TenantState(state).label.lower()}: "
                           f"its members can no longer be changed.")


def _other_admins(member: TenantMember) -> bool:
    return (TenantMember.objects.filter(tenant_id=member.tenant_id)
            .filter(Q(is_general_administrator=True) | Q(is_user_administrator=True))
            .exclude(pk=member.pk).exists())


@transaction.atomic
def invite_member(*, actor, tenant: Tenant, email: str, is_admin: bool = False,
                  source: str = AuditEntry.Source.CONSENT, check: bool = True) -> TenantMember:
    """Add the person with ``email`` to the tenant (creating their account without a password when
    missing) and e-mail them: a link to choose a password for a new account, else a sign-in link."""
    if check:
        require_tenant_admin(user=actor, tenant=tenant)
    email = validate_email(email)
    _lock(tenant)
    user, created = get_or_create_invited_user(email=email)
    if TenantMember.objects.filter(tenant=tenant, user=user).exists():
        raise TenantError(f"{email} is already a member of {tenant.company_name}.")
    member = TenantMember.objects.create(tenant=tenant, user=user, is_general_administrator=is_admin)
    record(event_type="tenant.member_added", actor=actor, source=source, tenant=tenant,
           message=signed(f"{email} invited{' as administrator' if is_admin else ''}"
                          f"{' (new account)' if created else ''}."),
           changes={"member": [None, email]})
    from ..tasks import notify_member_invited

    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(lambda: notify_member_invited.delay(member.pk, created, actor_id))
    return member


@transaction.atomic
def remove_member(*, actor, member: TenantMember, source: str = AuditEntry.Source.CONSENT) -> None:
    tenant = member.tenant
    require_tenant_admin(user=actor, tenant=tenant)
    _lock(tenant)
    member = TenantMember.objects.select_related("user").get(pk=member.pk)
    if member.is_admin and not _other_admins(member):
        raise LastAdministrator(f"{member.user.email} is the last administrator of {tenant.company_name}: "
                                f"make someone else an administrator first.")
    email = member.user.email
    member.delete()
    record(event_type="tenant.member_removed", actor=actor, source=source, tenant=tenant,
           message=f"{email} removed.", changes={"member": [email, None]})


@transaction.atomic
def set_administrator(*, actor, member: TenantMember, is_admin: bool,
                      source: str = AuditEntry.Source.CONSENT) -> TenantMember:
    """Grant (General Administrator) or withdraw (both function rights) a member's administrator rights."""
    tenant = member.tenant
    require_tenant_admin(user=actor, tenant=tenant)
    _lock(tenant)
    member = TenantMember.objects.select_related("user").get(pk=member.pk)
    if member.is_admin == is_admin:
        return member
    if not is_admin and not _other_admins(member):
        raise LastAdministrator(f"{member.user.email} is the last administrator of {tenant.company_name}: "
                                f"make someone else an administrator first.")
    member.is_general_administrator = is_admin
    if not is_admin:
        member.is_user_administrator = False
    member.save(update_fields=["is_general_administrator", "is_user_administrator"])
    record(event_type="tenant.member_rights_changed", actor=actor, source=source, tenant=tenant,
           message=f"{member.user.email} {'is now' if is_admin else 'is no longer'} an administrator.",
           changes={"administrator": [not is_admin, is_admin]})
    return member

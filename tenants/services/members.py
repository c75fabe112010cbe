"""A tenant's members: its administrators invite people by e-mail, remove them and grant or
withdraw administrator rights. A tenant always keeps one administrator.

People join only by accepting an invitation while signed in with the invited address; whether the
address has an account makes no difference to the inviter. Only staff creating a tenant add its
first administrator directly.
"""

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email as django_validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import get_or_create_invited_user, normalise_email
from accounts.tokens import token_checksum
from audit.models import AuditEntry
from audit.services import record

from ..models import Tenant, TenantInvitation, TenantMember, TenantState
from ..selectors import invitation_by_token, invitation_problem
from .lifecycle import TenantError, _require_staff, signed

INVITATION_DAYS = 14


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
                  source: str = AuditEntry.Source.CONSENT) -> TenantInvitation:
    """Invite ``email`` to the tenant: an e-mailed link, valid INVITATION_DAYS days, that its owner
    accepts once signed in with that address. Nobody becomes a member here."""
    require_tenant_admin(user=actor, tenant=tenant)
    email = validate_email(email)
    _lock(tenant)
    if TenantMember.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise TenantError(f"{email} is already a member of {tenant.company_name}.")
    pending = (TenantInvitation.objects.select_for_update()
               .filter(tenant=tenant, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
               .first())
    if pending is not None and pending.expires_at > timezone.now():
        raise TenantError(f"{email} is already invited to {tenant.company_name}; "
                          f"revoke that invitation to send a new one.")
    if pending is not None:
        # An expired invitation makes way for the new one (one open invitation per address).
        pending.revoked_at = timezone.now()
        pending.save(update_fields=["revoked_at"])
    token = secrets.token_urlsafe(32)
    invitation = TenantInvitation.objects.create(
        tenant=tenant, email=email, is_admin=is_admin, token_hash=token_checksum(token),
        invited_by=actor if getattr(actor, "pk", None) else None,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS))
    record(event_type="tenant.member_invited", actor=actor, source=source, tenant=tenant,
           message=signed(f"{email} invited{' as administrator' if is_admin else ''}."),
           changes={"invitation": [None, email]})
    from ..tasks import notify_member_invitation

    # The raw token exists only in this e-mail; argsrepr keeps it out of worker logs and events.
    transaction.on_commit(lambda: notify_member_invitation.apply_async(
        args=[invitation.pk, token], argsrepr=f"({invitation.pk}, '…')"))
    return invitation


@transaction.atomic
def revoke_invitation(*, actor, invitation: TenantInvitation,
                      source: str = AuditEntry.Source.CONSENT) -> TenantInvitation:
    tenant = invitation.tenant
    require_tenant_admin(user=actor, tenant=tenant)
    locked = TenantInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise TenantError(f"{locked.email} has already accepted this invitation.")
    if locked.revoked_at is not None:
        raise TenantError(f"The invitation of {locked.email} was already revoked.")
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(event_type="tenant.invitation_revoked", actor=actor, source=source, tenant=tenant,
           message=f"Invitation of {locked.email} revoked.", changes={"invitation": [locked.email, None]})
    return locked


@transaction.atomic
def accept_invitation(*, user, token: str) -> TenantMember:
    """The invited person, signed in with the invited address, becomes a member (an administrator
    when invited as one; an existing member keeps their rights, gaining administrator if invited so)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to accept an invitation.")
    found = invitation_by_token(token)
    invitation = None
    if found is not None:
        invitation = (TenantInvitation.objects.select_for_update(of=("self",))
                      .select_related("tenant__environment").get(pk=found.pk))
    problem = invitation_problem(invitation)
    if problem:
        raise TenantError(problem)
    if invitation.email.lower() != (user.email or "").lower():
        raise TenantError(f"This invitation was sent to {invitation.email}, but you are signed in as "
                          f"{user.email}. Sign in with {invitation.email} to accept it.")
    tenant = invitation.tenant
    _lock(tenant)
    member, created = TenantMember.objects.get_or_create(
        tenant=tenant, user=user, defaults={"is_general_administrator": invitation.is_admin})
    if not created and invitation.is_admin and not member.is_admin:
        member.is_general_administrator = True
        member.save(update_fields=["is_general_administrator"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(event_type="tenant.member_added", actor=user, source=AuditEntry.Source.CONSENT, tenant=tenant,
           message=f"{user.email} accepted the invitation"
                   f"{' as administrator' if invitation.is_admin else ''}.",
           changes={"member": [None, user.email]})
    return member


@transaction.atomic
def add_first_administrator(*, actor, tenant: Tenant, email: str,
                            source: str = AuditEntry.Source.SYSTEM) -> TenantMember:
    """Staff creating a tenant: its first administrator is added at once (creating their account without
    a password when missing) and e-mailed a link to choose a password, or to sign in."""
    _require_staff(actor)
    email = validate_email(email)
    is_admin = True
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

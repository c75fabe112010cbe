"""The partner's team: invitations, members and their permissions, and the contact roles they hold.

Every change needs the "users" permission in the partner (accepting an invitation needs the
invitation itself). People join only by accepting an invitation, never by being added. A team
always keeps one member who can manage it, and a member who is a contact of the partner or of
an app leaves only after those roles have moved to someone else.
"""

import re
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.tokens import token_checksum
from audit import services as audit

from ..models import App, Invitation, Partner, PartnerApiToken, PartnerMember
from ..permissions import require_partner_permission
from ..selectors.team import invitation_by_token, invitation_problem, member_roles
from ..tasks import notify_invitation

INVITATION_DAYS = 14
# Flags an invitation carries; "login" is always on for someone who joins.
INVITATION_PERMISSIONS = ("read", "app_store", "configuration", "users")
LAST_MANAGER = ("{name} must keep at least one member with the “users” permission "
                "(someone must be able to manage the team).")


# What a browser's <input type="email"> accepts (the WHATWG rule), so an address the portal
# accepts can also be typed into the sign-up form: no quoted local parts, no [IP] domains.
_BROWSER_LOCAL_PART = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+\Z")
_BROWSER_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                             r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z")
IP_LITERAL_EMAIL = ("Use an address at a domain name, like name@example.com; "
                    "addresses at an IP address such as [127.0.0.1] are not accepted.")
INVALID_EMAIL = "Enter a valid e-mail address, like name@example.com."


def validate_account_email(email: str) -> None:
    """An address someone can sign up with: Django's check plus what the browser's e-mail field accepts.

    Sign-up and invitations use this one rule, so nobody is invited at an address the sign-up
    form would refuse.
    """
    local, _, domain = email.rpartition("@")
    if domain.startswith("["):
        raise ValidationError(IP_LITERAL_EMAIL, code="ip_literal")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(INVALID_EMAIL, code="invalid") from None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(INVALID_EMAIL, code="invalid") from None
    if not _BROWSER_LOCAL_PART.match(local) or not _BROWSER_DOMAIN.match(ascii_domain):
        raise ValidationError(INVALID_EMAIL, code="invalid")


def normalise_email(email: str) -> str:
    """E-mail addresses are stored and compared in lower case (as accounts.User keeps them)."""
    email = (email or "").strip().lower()
    try:
        validate_account_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    return email


def _flags(permissions: dict, allowed: tuple[str, ...]) -> dict[str, bool]:
    unknown = set(permissions) - set(allowed)
    if unknown:
        raise ValueError(f"Unknown partner permissions: {sorted(unknown)}")
    return {f"can_{name}": bool(permissions[name]) for name in permissions}


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_checksum(token)


def _send_invitation(invitation: Invitation, token: str) -> None:
    # The raw token exists only in this e-mail; argsrepr keeps it out of worker logs and events.
    transaction.on_commit(lambda: notify_invitation.apply_async(
        args=[invitation.pk, token], argsrepr=f"({invitation.pk}, '…')"))


def _lock_team(partner: Partner) -> list[PartnerMember]:
    """Lock the partner's memberships so two concurrent changes cannot both remove the last manager."""
    return list(PartnerMember.objects.select_for_update().filter(partner=partner).order_by("pk"))


def _is_manager(values: dict) -> bool:
    return bool(values["can_login"] and values["can_users"])


def _email(user) -> str | None:
    return user.email if user is not None else None


# ---------------------------------------------------------------- invitations

@transaction.atomic
def invite_member(*, actor, partner: Partner, email: str, permissions: dict) -> Invitation:
    """Invite someone to the team: an e-mailed link they accept after signing in or signing up.

    Whether the address already has an account makes no difference here, so neither the
    answer nor the team page tells the inviter; nobody joins a team without accepting.
    ``permissions`` maps read / app_store / configuration / users to booleans.
    """
    require_partner_permission(user=actor, partner=partner, permission="users")
    email = normalise_email(email)
    flags = _flags(permissions, INVITATION_PERMISSIONS)
    if PartnerMember.objects.filter(partner=partner, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {partner.name}."})
    pending = Invitation.objects.select_for_update().filter(
        partner=partner, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).first()
    if pending is not None and pending.expires_at > timezone.now():
        raise ValidationError({"email": f"{email} is already invited to {partner.name}; "
                                        "resend or revoke that invitation."})
    if pending is not None:
        # An expired invitation makes way for the new one (one open invitation per address).
        pending.revoked_at = timezone.now()
        pending.save(update_fields=["revoked_at"])

    token, digest = _new_token()
    invitation = Invitation.objects.create(
        partner=partner, email=email, token_hash=digest, invited_by=actor,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS), **flags)
    audit.record(event_type="invitation_sent", actor=actor, partner=partner,
                 message=f"{email} invited to the team",
                 changes={"email": [None, email], **{name: [None, value] for name, value in flags.items()}})
    _send_invitation(invitation, token)
    return invitation


def _open_for_change(*, actor, invitation: Invitation) -> Invitation:
    require_partner_permission(user=actor, partner=invitation.partner, permission="users")
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise ValidationError(f"{locked.email} has already accepted this invitation.")
    if locked.revoked_at is not None:
        raise ValidationError(f"The invitation of {locked.email} was revoked.")
    return locked


@transaction.atomic
def resend_invitation(*, actor, invitation: Invitation) -> Invitation:
    """Send the invitation again with a fresh link and expiry; the previous link stops working."""
    invitation = _open_for_change(actor=actor, invitation=invitation)
    old_expiry = invitation.expires_at
    token, invitation.token_hash = _new_token()
    invitation.expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit.record(event_type="invitation_resent", actor=actor, partner=invitation.partner,
                 message=f"Invitation of {invitation.email} sent again",
                 changes={"expires_at": [old_expiry.isoformat(), invitation.expires_at.isoformat()]})
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def revoke_invitation(*, actor, invitation: Invitation) -> Invitation:
    invitation = _open_for_change(actor=actor, invitation=invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(event_type="invitation_revoked", actor=actor, partner=invitation.partner,
                 message=f"Invitation of {invitation.email} revoked")
    return invitation


@transaction.atomic
def accept_invitation(*, user, token: str) -> PartnerMember:
    """The invited person joins the partner with the invitation's permissions."""
    found = invitation_by_token(token)
    invitation = None
    if found is not None:
        invitation = (Invitation.objects.select_for_update(of=("self",)).select_related("partner")
                      .get(pk=found.pk))
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem, code="invalid_invitation")
    if invitation.email.lower() != (user.email or "").lower():
        raise ValidationError(
            f"This invitation was sent to {invitation.email}, but you are signed in as {user.email}. "
            f"Sign in with {invitation.email} to accept it.", code="wrong_account")
    partner = invitation.partner
    flags = {f"can_{name}": getattr(invitation, f"can_{name}") for name in INVITATION_PERMISSIONS}
    member, created = PartnerMember.objects.get_or_create(
        partner=partner, user=user, defaults={"can_login": True, **flags})
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    # The link reached this address, so the address is proven.
    EmailAddress.objects.filter(user=user, email__iexact=invitation.email).update(verified=True)
    if created:
        invited_by = _email(invitation.invited_by)
        audit.record(event_type="member_added", actor=user, partner=partner,
                     message=f"{user.email} joined by invitation"
                             + (f" from {invited_by}" if invited_by else ""),
                     changes={"member": [None, user.email],
                              **{name: [None, value] for name, value in flags.items()}})
    return member


# ---------------------------------------------------------------- members

@transaction.atomic
def update_member_permissions(*, actor, member: PartnerMember, **flags: bool) -> PartnerMember:
    """Change a member's flags (login, read, app_store, configuration, users); nothing else."""
    partner = member.partner
    require_partner_permission(user=actor, partner=partner, permission="users")
    wanted = _flags(flags, PartnerMember.PERMISSIONS)
    team = {m.pk: m for m in _lock_team(partner)}
    member = team.get(member.pk)
    if member is None:
        raise ValidationError("This person is no longer a member of the team.")
    before = {f"can_{name}": getattr(member, f"can_{name}") for name in PartnerMember.PERMISSIONS}
    after = {**before, **wanted}
    changes = audit.diff(before, after)
    if not changes:
        return member
    if _is_manager(before) and not _is_manager(after) and not any(
            m.can_login and m.can_users for pk, m in team.items() if pk != member.pk):
        message = LAST_MANAGER.format(name=partner.name)
        if member.user_id == actor.pk:
            message = ("You are the last member who can manage the team; give another member "
                       "the “users” permission first.")
        raise ValidationError({"can_users" if "can_users" in changes else "can_login": message})
    for field, value in after.items():
        setattr(member, field, value)
    member.save(update_fields=list(changes))
    audit.record(event_type="member_permissions_changed", actor=actor, partner=partner,
                 message=f"Permissions of {member.user.email} changed", changes=changes)
    return member


def _move_contacts(*, actor, partner: Partner, from_user, to_user) -> None:
    for field, event in (("technical_contact", "technical_contact_changed"),
                         ("administrative_contact", "administrative_contact_changed")):
        if getattr(partner, f"{field}_id") == from_user.pk:
            setattr(partner, field, to_user)
            partner.save(update_fields=[field])
            audit.record(event_type=event, actor=actor, partner=partner,
                         message=f"{field.replace('_', ' ').capitalize()} of {partner.name} "
                                 f"moved to {to_user.email}",
                         changes={field: [from_user.email, to_user.email]})
    for app in App.objects.select_for_update().filter(partner=partner, technical_contact=from_user):
        _set_app_contact(actor=actor, app=app, to_user=to_user)


def _set_app_contact(*, actor, app: App, to_user) -> None:
    old = _email(app.technical_contact)
    app.technical_contact = to_user
    app.save(update_fields=["technical_contact", "updated_at"])
    audit.record(event_type="app_technical_contact_changed", actor=actor, partner=app.partner, app=app,
                 message=f"Technical contact of {app.name} changed",
                 changes={"technical_contact": [old, to_user.email]})


@transaction.atomic
def remove_member(*, actor, member: PartnerMember, reassign_to: PartnerMember | None = None) -> None:
    """Detach a member from the partner (the account stays).

    Refused while they hold a contact role, unless ``reassign_to`` (another member of the same
    partner) is given: every role moves to that member first.
    """
    partner = Partner.objects.select_for_update().get(pk=member.partner_id)
    require_partner_permission(user=actor, partner=partner, permission="users")
    team = {m.pk: m for m in _lock_team(partner)}
    member = team.get(member.pk)
    if member is None:
        raise ValidationError("This person is no longer a member of the team.")
    member.partner = partner
    if member.has("users") and not any(m.can_login and m.can_users for pk, m in team.items()
                                       if pk != member.pk):
        raise ValidationError(LAST_MANAGER.format(name=partner.name))
    roles = member_roles(member)
    if reassign_to is not None:
        if reassign_to.pk == member.pk or reassign_to.pk not in team:
            raise ValidationError({"reassign_to": "Choose another member of this company."})
        target = team[reassign_to.pk]
        _move_contacts(actor=actor, partner=partner, from_user=member.user, to_user=target.user)
    elif roles:
        raise ValidationError({"reassign_to": (
            f"{member.user.email} is still the " + "; the ".join(roles)
            + ". Choose a member to take over these roles.")})
    member.delete()
    # Their API tokens end with the membership: rejoining later must not revive them.
    revoked = PartnerApiToken.objects.filter(partner=partner, created_by=member.user,
                                             revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor)
    audit.record(event_type="member_removed", actor=actor, partner=partner,
                 message=f"{member.user.email} removed from the team"
                         + (f"; {revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else ""),
                 changes={"member": [member.user.email, None]})


@transaction.atomic
def reassign_technical_contacts(*, actor, partner: Partner, app_ids, to_user) -> int:
    """Make ``to_user`` the technical contact of the given apps of the partner; returns how many changed."""
    require_partner_permission(user=actor, partner=partner, permission="users")
    wanted = set(app_ids)
    if not wanted:
        raise ValidationError({"apps": "Choose at least one app."})
    if to_user is None or not PartnerMember.objects.filter(partner=partner, user=to_user).exists():
        raise ValidationError({"to_user": f"The technical contact must be a member of {partner.name}."})
    apps = list(App.objects.select_for_update(of=("self",)).select_related("technical_contact")
                .filter(partner=partner, pk__in=wanted).order_by("name"))
    if len(apps) != len(wanted):
        raise ValidationError({"apps": f"Only apps of {partner.name} can be reassigned here."})
    changed = [app for app in apps if app.technical_contact_id != to_user.pk]
    for app in changed:
        _set_app_contact(actor=actor, app=app, to_user=to_user)
    return len(changed)

"""Partner API tokens: created by a member, shown once, kept as a SHA-256 hash, revocable.

A token acts for the member who created it, with that member's permissions at the time of
each request (appstore.api.authentication checks them).
"""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.tokens import token_checksum
from audit import services as audit

from ..models import Partner, PartnerApiToken
from ..permissions import membership, require_partner_permission

# Recognisable in logs and secret scanners; the random part carries 256 bits.
TOKEN_PREFIX = "pat_"
DISPLAY_PREFIX_LENGTH = 12
NAME_MAX_LENGTH = PartnerApiToken._meta.get_field("name").max_length


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def create_api_token(*, actor, partner: Partner, name: str) -> tuple[PartnerApiToken, str]:
    """A new token for ``actor`` in ``partner``; returns the row and the raw token (shown once)."""
    require_partner_permission(user=actor, partner=partner, permission="login")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. where it is used."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"At most {NAME_MAX_LENGTH} characters."})
    raw = new_raw_token()
    token = PartnerApiToken.objects.create(
        partner=partner, created_by=actor, name=name, prefix=raw[:DISPLAY_PREFIX_LENGTH],
        token_hash=token_checksum(raw))
    audit.record(event_type="api_token_created", actor=actor, partner=partner,
                 message=f"API token “{name}” (#{token.pk}) created",
                 changes={"api_token": [None, name]})
    return token, raw


def can_revoke(*, user, token: PartnerApiToken) -> bool:
    """The token's creator, or a member of its partner with the users permission."""
    member = membership(user=user, partner=token.partner)
    if member is None or not member.has("login"):
        return False
    return token.created_by_id == user.pk or member.has("users")


@transaction.atomic
def revoke_api_token(*, actor, token: PartnerApiToken) -> PartnerApiToken:
    if not can_revoke(user=actor, token=token):
        raise PermissionDenied(
            f"Only the token's creator or a member with the 'users' permission in "
            f"{token.partner.name} may revoke it.")
    token = PartnerApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(f"API token “{token.name}” is already revoked.")
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(event_type="api_token_revoked", actor=actor, partner=token.partner,
                 message=f"API token “{token.name}” (#{token.pk}) revoked",
                 changes={"api_token": [token.name, None]})
    return token

"""Reads about a partner's team: members with their roles, invitations, reassignable apps."""

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from accounts.tokens import token_checksum

from ..models import App, Invitation, Partner, PartnerMember


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def members_with_roles(partner: Partner) -> QuerySet[PartnerMember]:
    """The partner's members, each with ``app_count`` (apps they are technical contact of) and
    ``is_technical_contact`` / ``is_administrative_contact`` (of the partner), in one query."""
    app_counts = (App.objects.filter(partner=OuterRef("partner"), technical_contact=OuterRef("user"))
                  .order_by().values("technical_contact").annotate(n=Count("pk")).values("n"))
    return (PartnerMember.objects.filter(partner=partner)
            .select_related("user", "partner")
            .annotate(app_count=Coalesce(Subquery(app_counts, output_field=IntegerField()), 0),
                      is_technical_contact=_flag(Q(user_id=F("partner__technical_contact_id"))),
                      is_administrative_contact=_flag(Q(user_id=F("partner__administrative_contact_id"))))
            .order_by("user__email"))


def member_of(partner: Partner, pk: int) -> PartnerMember:
    """A member of this partner, or PartnerMember.DoesNotExist (never another partner's member)."""
    return members_with_roles(partner).get(pk=pk)


def member_roles(member: PartnerMember) -> list[str]:
    """What the member is responsible for, as people read it; empty when nothing must move."""
    partner = member.partner
    roles = []
    if partner.technical_contact_id == member.user_id:
        roles.append(f"technical contact of {partner.name}")
    if partner.administrative_contact_id == member.user_id:
        roles.append(f"administrative contact of {partner.name}")
    roles += [f"technical contact of the app {name}" for name in
              App.objects.filter(partner=partner, technical_contact_id=member.user_id)
              .order_by("name").values_list("name", flat=True)]
    return roles


def team_managers(partner: Partner) -> QuerySet[PartnerMember]:
    """Members who can manage the team (the "users" permission, and allowed to sign in)."""
    return PartnerMember.objects.filter(partner=partner, can_login=True, can_users=True)


def open_invitations(partner: Partner) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked, newest first; ``is_expired`` marks the stale ones."""
    return (Invitation.objects.filter(partner=partner, accepted_at__isnull=True, revoked_at__isnull=True)
            .select_related("invited_by")
            .annotate(is_expired=_flag(Q(expires_at__lte=Now())))
            .order_by("-created_at", "-id"))


def open_invitation_of(partner: Partner, pk: int) -> Invitation:
    """An open invitation of this partner, or Invitation.DoesNotExist."""
    return open_invitations(partner).get(pk=pk)


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, whatever its state; None for an unknown token."""
    if not token:
        return None
    return (Invitation.objects.select_related("partner", "invited_by")
            .filter(token_hash=token_checksum(token)).first())


def invitation_problem(invitation: Invitation | None) -> str:
    """Why an invitation cannot be accepted any more, or "" while it can."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied the whole link."
    if invitation.accepted_at is not None:
        return "This invitation has already been used."
    if invitation.revoked_at is not None:
        return f"This invitation was withdrawn by {invitation.partner.name}."
    if invitation.expires_at <= timezone.now():
        return (f"This invitation has expired. Ask {invitation.partner.name} "
                "to send you a new one.")
    return ""


def other_members(member: PartnerMember) -> QuerySet[PartnerMember]:
    """The member's colleagues in the same partner (who can take over their roles)."""
    return (PartnerMember.objects.filter(partner_id=member.partner_id).exclude(pk=member.pk)
            .select_related("user").order_by("user__email"))

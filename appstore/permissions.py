"""Who may do what in the portal and the review pages; services call these."""

from django.core.exceptions import PermissionDenied

from .models import App, Partner, PartnerMember


def membership(*, user, partner: Partner) -> PartnerMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_partner_memberships", None)
    if cached is None:
        cached = {m.partner_id: m for m in PartnerMember.objects.filter(user=user)}
        user._partner_memberships = cached
    return cached.get(partner.pk)


def require_partner_permission(*, user, partner: Partner, permission: str) -> PartnerMember:
    member = membership(user=user, partner=partner)
    if member is None or not member.has(permission):
        raise PermissionDenied(f"You need the '{permission}' permission in {partner.name}.")
    return member


def require_app_permission(*, user, app: App, permission: str) -> PartnerMember:
    return require_partner_permission(user=user, partner=app.partner, permission=permission)


def require_app_manager(*, user) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_app_manager:
        raise PermissionDenied("Only App-manager staff may review listings.")

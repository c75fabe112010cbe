from django.db.models import QuerySet

from ..models import App, ListingVersion, Partner, PartnerMember

SESSION_KEY = "current_partner_id"


def memberships_of(user) -> QuerySet[PartnerMember]:
    return PartnerMember.objects.filter(user=user, can_login=True).select_related("partner").order_by(
        "partner__name")


def current_membership(request) -> PartnerMember | None:
    """The partner the signed-in user works in now (chosen in the session, else the first)."""
    if not request.user.is_authenticated:
        return None
    cached = getattr(request, "_current_membership", False)
    if cached is not False:
        return cached
    members = list(memberships_of(request.user))
    wanted = request.session.get(SESSION_KEY)
    member = next((m for m in members if m.partner_id == wanted), members[0] if members else None)
    request._current_membership = member
    request._memberships = members
    # The same rows answer the services' permission checks (appstore.permissions.membership);
    # members without the login flag fail those checks either way.
    request.user._partner_memberships = {m.partner_id: m for m in members}
    return member


def apps_of(partner: Partner) -> QuerySet[App]:
    return App.objects.filter(partner=partner).select_related("technical_contact")


def app_of(partner: Partner, pk: int) -> App:
    """An app of this partner, or App.DoesNotExist (never another partner's app)."""
    return App.objects.select_related("partner", "technical_contact").get(partner=partner, pk=pk)


def listing_of(partner: Partner, app_pk: int, pk: int) -> ListingVersion:
    return ListingVersion.objects.select_related("app__partner", "environment").get(
        app__partner=partner, app_id=app_pk, pk=pk)


def members_of(partner: Partner) -> QuerySet[PartnerMember]:
    return PartnerMember.objects.filter(partner=partner).select_related("user").order_by("user__email")


def membership_owning(user, *, related: str, pk: int) -> PartnerMember | None:
    """The user's membership (with sign-in) in the partner owning row ``pk`` of the partner's
    ``related`` set ("apps", "profile_versions"); None for anyone else."""
    return memberships_of(user).filter(**{f"partner__{related}__pk": pk}).first()

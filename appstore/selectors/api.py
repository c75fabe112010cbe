"""Reads for the partner REST API and its tokens; every one takes the partner explicitly.

List reads load their relations up front, so a page costs the same number of queries
whatever it holds.
"""

from django.db.models import CharField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value

from ..models import (
    App,
    AppClient,
    ConfigurationVersion,
    ListingVersion,
    Partner,
    PartnerApiToken,
    PartnerMember,
    VersionState,
)

# ---------------------------------------------------------------- apps


def _clients() -> QuerySet[AppClient]:
    return AppClient.objects.select_related("environment", "secret", "certificate")


def api_apps_of(partner: Partner) -> QuerySet[App]:
    """The partner's apps with their clients per environment (secret and certificate joined)."""
    return (App.objects.filter(partner=partner).select_related("technical_contact")
            .prefetch_related(Prefetch("clients", queryset=_clients())).order_by("name", "id"))


def api_app_of(partner: Partner, pk: int) -> App:
    """One app of this partner with its clients, or App.DoesNotExist."""
    return api_apps_of(partner).get(pk=pk)


# ---------------------------------------------------------------- listing versions

LISTING_PREFETCH = ("categories", "languages", "markets", "links", "videos", "images")


def api_listings_of(partner: Partner, app_id: int) -> QuerySet[ListingVersion]:
    """Listing versions of one of the partner's apps, newest first."""
    return (ListingVersion.objects.filter(app__partner=partner, app_id=app_id)
            .select_related("app__partner", "environment")
            .prefetch_related(*LISTING_PREFETCH).order_by("-created_at", "-id"))


def api_listing_of(partner: Partner, app_id: int, pk: int) -> ListingVersion:
    return api_listings_of(partner, app_id).get(pk=pk)


# ---------------------------------------------------------------- publish requests

REQUEST_KINDS = {"listing": ListingVersion, "configuration": ConfigurationVersion}
# A version is a publish request while pending, and stays one once staff decided it; a
# request the partner withdrew is a draft again and is not listed.
REQUEST_CONDITION = Q(state=VersionState.PENDING) | Q(
    state__in=(VersionState.PUBLISHED, VersionState.REJECTED), reviewed_at__isnull=False)
REQUEST_COLUMNS = ("kind", "id", "app_id", "app_name", "environment_code", "label", "state",
                   "submitted_at", "submitted_by_email", "reviewed_at", "review_reason",
                   "published_at", "superseded_at")


def publish_requests_of(partner: Partner, kind: str) -> QuerySet:
    """One kind of the partner's publish requests, as rows of REQUEST_COLUMNS."""
    model = REQUEST_KINDS[kind]
    return (model.objects.filter(REQUEST_CONDITION, app__partner=partner)
            .annotate(kind=Value(kind, output_field=CharField()), app_name=F("app__name"),
                      environment_code=F("environment__code"),
                      submitted_by_email=F("submitted_by__email"))
            .values_list(*REQUEST_COLUMNS, named=True).order_by())


def combine_publish_requests(listings: QuerySet, configurations: QuerySet) -> QuerySet:
    """Both kinds in one list (one query per page), the most recently requested first."""
    return listings.union(configurations, all=True).order_by(
        F("submitted_at").desc(nulls_last=True), "kind", "-id")


# ---------------------------------------------------------------- tokens


def api_tokens_for(member: PartnerMember) -> QuerySet[PartnerApiToken]:
    """The tokens a member may see: their own, or all of the partner's with the users permission.

    Each token carries ``creator_is_member`` and ``creator_can_sign_in``: a token works only
    while its creator is still a member of the partner, with the login flag and an active
    account (appstore.api.authentication checks the same at each request).
    """
    creator_membership = PartnerMember.objects.filter(partner_id=OuterRef("partner_id"),
                                                      user_id=OuterRef("created_by_id"))
    tokens = (PartnerApiToken.objects.filter(partner_id=member.partner_id)
              .select_related("partner", "created_by", "revoked_by")
              .annotate(creator_is_member=Exists(creator_membership),
                        creator_can_sign_in=Exists(creator_membership.filter(
                            can_login=True, user__is_active=True)))
              .order_by("-created_at", "-id"))
    if not member.has("users"):
        tokens = tokens.filter(created_by_id=member.user_id)
    return tokens


def api_token_for(member: PartnerMember, pk: int) -> PartnerApiToken:
    """One token the member may see, or PartnerApiToken.DoesNotExist."""
    return api_tokens_for(member).get(pk=pk)

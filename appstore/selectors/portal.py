"""Reads for the developer portal; every one takes the partner (or an object already scoped to it)."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from audit.selectors import entries_for_target

from ..models import (
    App,
    AppClient,
    ConfigurationVersion,
    ImageKind,
    LinkClick,
    LinkKind,
    ListingImage,
    ListingVersion,
    Partner,
    VersionState,
)
from ..services.listings import OPEN_STATES


@dataclass(frozen=True)
class AppCard:
    """What the dashboard shows for one app."""

    app: App
    latest: ListingVersion | None
    live: ListingVersion | None
    icon: ListingImage | None


def dashboard_cards(partner: Partner) -> list[AppCard]:
    """The partner's apps with their latest and live listing versions, in a fixed number of queries."""
    versions = ListingVersion.objects.order_by("-created_at", "-id").prefetch_related(
        Prefetch("images", queryset=ListingImage.objects.filter(kind=ImageKind.HOME_ICON),
                 to_attr="home_icons"))
    apps = App.objects.filter(partner=partner).select_related("partner").prefetch_related(
        Prefetch("listing_versions", queryset=versions, to_attr="versions_newest_first"))
    cards = []
    for app in apps:
        history = app.versions_newest_first
        latest = history[0] if history else None
        live = next((v for v in history if v.is_live), None)
        cards.append(AppCard(app=app, latest=latest, live=live,
                             icon=latest.home_icons[0] if latest and latest.home_icons else None))
    return cards


def member_users(partner: Partner) -> QuerySet:
    """Users who belong to the partner (choices for contacts and the audit filter)."""
    return get_user_model().objects.filter(partner_memberships__partner=partner).order_by("email")


def versions_of(app: App) -> QuerySet[ListingVersion]:
    return app.listing_versions.select_related("submitted_by", "reviewed_by").order_by(
        "-created_at", "-id")


def open_version(app: App) -> ListingVersion | None:
    return app.listing_versions.filter(state__in=OPEN_STATES).order_by("-created_at", "-id").first()


def live_version(app: App) -> ListingVersion | None:
    return app.listing_versions.filter(state=VersionState.PUBLISHED,
                                       superseded_at__isnull=True).first()


def images_of(listing: ListingVersion) -> list[ListingImage]:
    return list(listing.images.order_by("kind", "position", "id"))


def image_of(listing: ListingVersion, pk: int) -> ListingImage:
    """An image of this listing, or ListingImage.DoesNotExist."""
    return ListingImage.objects.select_related("listing__app__partner").get(listing=listing, pk=pk)


def listing_change_log(listing: ListingVersion) -> QuerySet[AuditEntry]:
    """The audit entries of one listing version, oldest first."""
    return entries_for_target(listing)


CLICK_WINDOW_DAYS = 30


def store_clicks(partner: Partner, app_id: int, days: int = CLICK_WINDOW_DAYS) -> list[tuple[str, int]]:
    """Clicks through the store's /go/ links of one of the partner's apps in the last ``days``.

    One row per link kind, zero included, from a single grouped query.
    """
    since = timezone.now() - timedelta(days=days)
    counts = dict(LinkClick.objects.filter(app__partner=partner, app_id=app_id, at__gte=since)
                  .values_list("kind").annotate(n=Count("id")).order_by())
    return [(label, counts.get(kind, 0)) for kind, label in LinkKind.choices]


def clients_with_live_configuration(app: App) -> list[tuple[AppClient, ConfigurationVersion | None]]:
    """Each environment's client of the app with the configuration version live there."""
    live = {version.environment_id: version for version in app.configuration_versions.filter(
        state=VersionState.PUBLISHED, superseded_at__isnull=True)}
    return [(client, live.get(client.environment_id))
            for client in app.clients.select_related("environment")]

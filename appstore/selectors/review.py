"""Reads for the staff review pages: the queue, one version beside the live one, the audit log.

Staff see every partner, so these reads are not scoped to one; only App managers reach them
(the views check that before calling anything here).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.safestring import mark_safe

from audit.models import AuditEntry
from audit.selectors import entries_for_partner

from .. import richtext
from ..models import (
    ConfigurationVersion,
    LinkKind,
    ListingVersion,
    Partner,
    PartnerProfileVersion,
    PriceModel,
    VersionState,
)
from ..services.listings import LISTING_FIELDS, live_listing, snapshot

LISTING_RELATIONS = ("categories", "languages", "markets", "links", "videos", "images")
REVIEWED_STATES = (VersionState.PUBLISHED, VersionState.REJECTED)
# Fields whose value is the listing's limited rich text; shown rendered, never as source.
RICH_TEXT_FIELDS = ("about",)
EDITS_SINCE_REJECTION = 20


# ---------------------------------------------------------------- the queue

def _live_versions() -> QuerySet[ListingVersion]:
    """Live versions of the same app and environment as the outer row."""
    return ListingVersion.objects.filter(
        app=OuterRef("app"), environment=OuterRef("environment"),
        state=VersionState.PUBLISHED, superseded_at__isnull=True)


def pending_listings() -> QuerySet[ListingVersion]:
    """Versions waiting for review, oldest request first, each marked first listing or update."""
    return (
        ListingVersion.objects.filter(state=VersionState.PENDING)
        .select_related("app__partner", "environment", "submitted_by")
        .annotate(is_update=Exists(_live_versions()),
                  live_label=Subquery(_live_versions().values("label")[:1]))
        .order_by("submitted_at", "id")
    )


def reviewed_listings() -> QuerySet[ListingVersion]:
    """Published and rejected versions, most recently reviewed first."""
    return (
        ListingVersion.objects.filter(state__in=REVIEWED_STATES)
        .select_related("app__partner", "environment", "reviewed_by")
        .annotate(decided_at=Coalesce("reviewed_at", "published_at"))
        .order_by("-decided_at", "-id")
    )


# ---------------------------------------------------------------- one version

def listing_for_review(pk: int) -> ListingVersion:
    """Any partner's version with everything the review page shows; DoesNotExist when absent."""
    return (
        ListingVersion.objects.select_related(
            "app__partner__technical_contact", "app__technical_contact", "environment", "submitted_by",
            "reviewed_by")
        .prefetch_related(*LISTING_RELATIONS)
        .get(pk=pk)
    )


def baseline_for(listing: ListingVersion) -> ListingVersion | None:
    """What the reviewer compares against.

    For a published version: the version it replaced. Otherwise: what is live now in the
    same app and environment (None for a first listing).
    """
    if listing.state == VersionState.PUBLISHED:
        if listing.published_at is None:
            return None
        baseline = (
            listing.app.listing_versions.filter(
                environment=listing.environment, state=VersionState.PUBLISHED,
                published_at__lt=listing.published_at)
            .exclude(pk=listing.pk).order_by("-published_at", "-id").first())
    else:
        baseline = live_listing(listing.app, listing.environment)
    if baseline is None:
        return None
    return ListingVersion.objects.prefetch_related(*LISTING_RELATIONS).get(pk=baseline.pk)


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    label: str
    old: list[str]
    new: list[str]
    changed: bool

    @property
    def is_rich(self) -> bool:
        return self.key in RICH_TEXT_FIELDS


def _field_label(name: str) -> str:
    label = str(ListingVersion._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _lines(key: str, value) -> list[str]:
    """A snapshot value as the lines of text one cell shows; [] when empty."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, bool):
        return ["Yes" if value else "No"]
    if key in RICH_TEXT_FIELDS:
        # Stored sanitised by the service; cleaned again here so the page never trusts the row.
        return [mark_safe(richtext.sanitize(str(value)))]
    if key == "price_model":
        return [PriceModel(value).label if value in PriceModel.values else value]
    if key == "lowest_price_eur":
        return [f"{value} EUR"]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def compare(old: dict | None, new: dict) -> list[ComparisonRow]:
    """Every listing field side by side; ``old`` is None when nothing is published yet.

    Links get one row per kind so each URL a button will go to is shown on its own.
    """
    old_data = old or {}
    rows: list[ComparisonRow] = []

    def add(key: str, label: str, old_value, new_value) -> None:
        rows.append(ComparisonRow(
            key=key, label=label, old=_lines(key, old_value), new=_lines(key, new_value),
            changed=old is not None and old_value != new_value))

    for field in (*LISTING_FIELDS[:5], "categories", "languages", "markets", *LISTING_FIELDS[5:]):
        add(field, _field_label(field), old_data.get(field), new.get(field))
    old_links, new_links = old_data.get("links") or {}, new.get("links") or {}
    for kind in LinkKind:
        add(f"link-{kind.value}", f"Link: {kind.label}", old_links.get(kind.value),
            new_links.get(kind.value))
    add("videos", "Videos", old_data.get("videos"), new.get("videos"))
    add("images", "Images", old_data.get("images"), new.get("images"))
    return rows


def listing_comparison(listing: ListingVersion, baseline: ListingVersion | None) -> list[ComparisonRow]:
    return compare(snapshot(baseline) if baseline else None, snapshot(listing))


@dataclass(frozen=True)
class PreviousRejection:
    """The app's last rejected version and the listing edits made since it was rejected."""

    version: ListingVersion
    same_version: bool
    edits: list[AuditEntry]
    more_edits: bool


def previous_rejection(listing: ListingVersion,
                       baseline: ListingVersion | None) -> PreviousRejection | None:
    """For a pending first listing (nothing live to compare with): the last rejection, if any.

    A rejected version is edited and requested again in place, so the rejected version is
    usually this very version, which keeps the reviewer's reason until it is approved; the
    audit log holds what the partner changed since. Edits are newest first.
    """
    if listing.state != VersionState.PENDING or baseline is not None:
        return None
    rejected = (
        listing.app.listing_versions.filter(environment=listing.environment,
                                            reviewed_at__isnull=False)
        .exclude(review_reason="").exclude(state=VersionState.PUBLISHED)
        .select_related("reviewed_by").order_by("-reviewed_at", "-id").first())
    if rejected is None:
        return None
    edits = list(
        AuditEntry.objects.filter(app_id=listing.app_id, event_type="listing_version_updated",
                                  at__gte=rejected.reviewed_at)
        .order_by("-at", "-id")[:EDITS_SINCE_REJECTION + 1])
    return PreviousRejection(version=rejected, same_version=rejected.pk == listing.pk,
                             edits=edits[:EDITS_SINCE_REJECTION],
                             more_edits=len(edits) > EDITS_SINCE_REJECTION)


# ---------------------------------------------------------------- staff audit log

def audit_entries(*, partner_id: int | None = None, source: str = "", event_type: str = "",
                  date_from: date | None = None, date_to: date | None = None) -> QuerySet[AuditEntry]:
    """Every partner's audit entries (staff only), newest first, filtered."""
    qs = entries_for_partner(partner_id=partner_id, source=source, date_from=date_from,
                             date_to=date_to)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return qs.order_by("-at", "-id")


def audit_event_types() -> list[str]:
    return list(AuditEntry.objects.order_by("event_type").values_list("event_type", flat=True)
                .distinct())


def partner_names(partner_ids) -> dict[int, str]:
    """Names of the partners an audit page mentions, in one query."""
    ids = {pk for pk in partner_ids if pk is not None}
    if not ids:
        return {}
    return dict(Partner.objects.filter(pk__in=ids).values_list("pk", "name"))


def partners_for_filter() -> QuerySet[Partner]:
    return Partner.objects.order_by("name")


def queue_counts() -> dict[str, int]:
    """How many versions wait in each stream and how many listings were decided, for the tabs."""
    counts = ListingVersion.objects.aggregate(
        pending=Count("pk", filter=Q(state=VersionState.PENDING)),
        reviewed=Count("pk", filter=Q(state__in=REVIEWED_STATES)),
    )
    counts["configurations"] = ConfigurationVersion.objects.filter(state=VersionState.PENDING).count()
    counts["profiles"] = PartnerProfileVersion.objects.filter(state=VersionState.PENDING).count()
    return counts


# Queues of rooms above this one that App managers also work through (the login service's
# custom-app activations): each callable returns a queryset of the waiting rows' ``pk`` values.
# Registered when Django starts, so the App Store imports none of them.
extra_pending_queues: list[Callable[[], QuerySet]] = []


def pending_request_count() -> int:
    """Every request waiting for staff (listings, configurations, profiles and the registered
    queues), in one query."""
    pending = [model.objects.filter(state=VersionState.PENDING).order_by().values("pk")
               for model in (ListingVersion, ConfigurationVersion, PartnerProfileVersion)]
    pending += [queue() for queue in extra_pending_queues]
    return pending[0].union(*pending[1:], all=True).count()

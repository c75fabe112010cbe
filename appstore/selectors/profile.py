"""Reads of partner profile versions: partner-scoped for the portal and the store, and the
staff reads of the review pages (only App managers reach those; the views check first)."""

import hashlib
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.safestring import mark_safe

from .. import richtext
from ..models import Partner, PartnerProfileVersion, VersionState
from ..services.listings import OPEN_STATES
from ..services.profile import snapshot


def _live(queryset: QuerySet[PartnerProfileVersion]) -> QuerySet[PartnerProfileVersion]:
    return queryset.filter(state=VersionState.PUBLISHED, superseded_at__isnull=True)


# ---------------------------------------------------------------- partner-scoped

def live_profile(partner: Partner) -> PartnerProfileVersion | None:
    """The one published, not superseded, profile of the partner: the only one ever public."""
    return _live(PartnerProfileVersion.objects.filter(partner=partner)).first()


def profile_versions_of(partner: Partner) -> QuerySet[PartnerProfileVersion]:
    return (PartnerProfileVersion.objects.filter(partner=partner)
            .select_related("submitted_by", "reviewed_by").order_by("-created_at", "-id"))


def open_profile_version(partner: Partner) -> PartnerProfileVersion | None:
    return (PartnerProfileVersion.objects.filter(partner=partner, state__in=OPEN_STATES)
            .order_by("-created_at", "-id").first())


def profile_of(partner: Partner, pk: int) -> PartnerProfileVersion:
    """A profile version of this partner, or PartnerProfileVersion.DoesNotExist (never another's)."""
    return PartnerProfileVersion.objects.select_related(
        "partner", "submitted_by", "reviewed_by").get(partner=partner, pk=pk)


# ---------------------------------------------------------------- staff

def pending_profiles() -> QuerySet[PartnerProfileVersion]:
    """Profile versions waiting for review, oldest request first, each marked first or update."""
    live = _live(PartnerProfileVersion.objects.filter(partner=OuterRef("partner")))
    return (
        PartnerProfileVersion.objects.filter(state=VersionState.PENDING)
        .select_related("partner", "submitted_by")
        .annotate(is_update=Exists(live), live_label=Subquery(live.values("label")[:1]))
        .order_by("submitted_at", "id")
    )


def profile_for_review(pk: int) -> PartnerProfileVersion:
    """Any partner's version, for App managers; DoesNotExist when absent."""
    return PartnerProfileVersion.objects.select_related(
        "partner__technical_contact", "submitted_by", "reviewed_by").get(pk=pk)


def profile_baseline(version: PartnerProfileVersion) -> PartnerProfileVersion | None:
    """What the reviewer compares against: for a published version the one it replaced,
    otherwise the partner's live profile (None when nothing was published yet)."""
    versions = PartnerProfileVersion.objects.filter(partner=version.partner_id).exclude(pk=version.pk)
    if version.state == VersionState.PUBLISHED:
        if version.published_at is None:
            return None
        return (versions.filter(state=VersionState.PUBLISHED, published_at__lt=version.published_at)
                .order_by("-published_at", "-id").first())
    return _live(versions).first()


@dataclass(frozen=True)
class ProfileRow:
    key: str
    label: str
    old: list[str]
    new: list[str]
    changed: bool
    is_rich: bool = False


ROW_LABELS = (
    ("label", "Version label"),
    ("logo", "Logo"),
    ("logo_alt", "Logo alt text"),
    ("description", "Description"),
    ("meta_description", "SEO meta description"),
    ("links", "Links"),
)


def logo_digest(version: PartnerProfileVersion) -> str:
    """The logo's content hash: every version owns a copy of the file, so names always differ."""
    if not version.logo:
        return ""
    try:
        with version.logo.open("rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return "missing"


def _lines(key: str, value) -> list[str]:
    if value in (None, "", []):
        return []
    if key == "description":
        # Stored sanitised by the service; cleaned again so the page never trusts the row.
        return [mark_safe(richtext.sanitize(str(value)))]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def profile_comparison(version: PartnerProfileVersion,
                       baseline: PartnerProfileVersion | None) -> list[ProfileRow]:
    """Every profile field side by side; nothing is marked changed when there is no baseline.

    The logo row compares file contents; the page shows the two images, not the file names.
    """
    new = snapshot(version) | {"logo": logo_digest(version)}
    old = snapshot(baseline) | {"logo": logo_digest(baseline)} if baseline else {}
    return [ProfileRow(key=key, label=label, old=_lines(key, old.get(key)),
                       new=_lines(key, new.get(key)),
                       changed=baseline is not None and old.get(key) != new.get(key),
                       is_rich=key == "description")
            for key, label in ROW_LABELS]

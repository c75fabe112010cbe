"""Staff decisions on a pending listing version: approve (publish) or reject with a reason."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry

from ..models import ListingVersion, VersionState
from ..permissions import require_app_manager
from ..tasks import notify_listing_reviewed
from .listings import build_search_text, listing_fingerprint, live_listing

STALE_VERSION_MESSAGE = "This version changed after you opened it; review it again."
STALE_VERSION_CODE = "stale_version"


def _require_unchanged(listing: ListingVersion, seen_fingerprint: str | None) -> None:
    """Refuse a decision about content other than what the reviewer was shown.

    ``seen_fingerprint`` is listing_fingerprint() as it was when the review page was rendered;
    None skips the check (only for callers that never showed the version to a person).
    """
    if seen_fingerprint is not None and seen_fingerprint != listing_fingerprint(listing):
        raise ValidationError(STALE_VERSION_MESSAGE, code=STALE_VERSION_CODE)


@transaction.atomic
def approve_listing(*, actor, listing: ListingVersion,
                    seen_fingerprint: str | None = None) -> ListingVersion:
    """Publish a pending version; the app's previous live version is superseded.

    Staff pages pass ``seen_fingerprint`` so a version changed since the page was opened
    (withdrawn, edited and requested again) is not published unseen.
    """
    require_app_manager(user=actor)
    listing = ListingVersion.objects.select_for_update().get(pk=listing.pk)
    if listing.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be approved.")
    _require_unchanged(listing, seen_fingerprint)
    now = timezone.now()
    previous = live_listing(listing.app, listing.environment)
    if previous:
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at"])
    listing.state = VersionState.PUBLISHED
    listing.reviewed_by = actor
    listing.reviewed_at = now
    listing.published_at = now
    listing.review_reason = ""
    listing.search_text = build_search_text(listing)
    listing.save()
    if listing.app.listed_at is None:
        listing.app.listed_at = now
        listing.app.save(update_fields=["listed_at"])
    audit.record(event_type="listing_version_published", actor=actor, source=AuditEntry.Source.REVIEW,
                 partner=listing.app.partner, app=listing.app, target=listing,
                 message=f"Listing {listing.label} approved and published"
                 + (f", superseding {previous.label}" if previous else ""),
                 changes={"state": [VersionState.PENDING, VersionState.PUBLISHED]})
    transaction.on_commit(lambda: notify_listing_reviewed.delay(listing.pk))
    return listing


@transaction.atomic
def reject_listing(*, actor, listing: ListingVersion, reason: str,
                   seen_fingerprint: str | None = None) -> ListingVersion:
    """Send a pending version back to the partner with a reason (see approve_listing)."""
    require_app_manager(user=actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the version is rejected; the partner sees it."})
    listing = ListingVersion.objects.select_for_update().get(pk=listing.pk)
    if listing.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be rejected.")
    _require_unchanged(listing, seen_fingerprint)
    listing.state = VersionState.REJECTED
    listing.reviewed_by = actor
    listing.reviewed_at = timezone.now()
    listing.review_reason = reason.strip()
    listing.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_reason",
                                "updated_at"])
    audit.record(event_type="listing_version_rejected", actor=actor, source=AuditEntry.Source.REVIEW,
                 partner=listing.app.partner, app=listing.app, target=listing,
                 message=f"Listing {listing.label} rejected: {listing.review_reason}",
                 changes={"state": [VersionState.PENDING, VersionState.REJECTED]})
    transaction.on_commit(lambda: notify_listing_reviewed.delay(listing.pk))
    return listing

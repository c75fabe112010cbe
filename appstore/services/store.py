"""Writes caused by store visitors (anonymous): analytics only, so no audit entries."""

from django.db import transaction

from ..models import LinkClick, ListingLink


@transaction.atomic
def record_link_click(*, link: ListingLink) -> LinkClick:
    """Count a visitor following a listing link through /go/ (partner analytics)."""
    return LinkClick.objects.create(app_id=link.listing.app_id, listing_id=link.listing_id,
                                    kind=link.kind)

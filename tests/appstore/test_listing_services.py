import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from appstore.models import ListingVersion, VersionState
from appstore.services import listings, review
from audit.models import AuditEntry
from tests.factories import AppFactory, ListingFactory, complete_listing

pytestmark = pytest.mark.django_db


def test_request_refused_while_incomplete(partner_member):
    app = AppFactory(partner=partner_member.partner)
    listing = ListingFactory(app=app, header="")
    with pytest.raises(ValidationError) as exc:
        listings.request_publish(actor=partner_member.user, listing=listing)
    assert "Short header is required." in exc.value.messages
    listing.refresh_from_db()
    assert listing.state == VersionState.DRAFT


def test_approve_supersedes_previous_and_emails(partner_member, app_manager, mailoutbox,
                                                django_capture_on_commit_callbacks):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    first = complete_listing(ListingFactory(app=app))
    with django_capture_on_commit_callbacks(execute=True):
        listings.request_publish(actor=partner_member.user, listing=first)
        review.approve_listing(actor=app_manager, listing=first)
    second = listings.create_listing_version(actor=partner_member.user, app=app)
    assert second.label == "1.1"
    assert second.images.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        listings.request_publish(actor=partner_member.user, listing=second)
        review.approve_listing(actor=app_manager, listing=second)
    first.refresh_from_db()
    assert first.superseded_at is not None
    live = ListingVersion.objects.filter(app=app, state="published", superseded_at__isnull=True)
    assert list(live) == [second]
    assert [m.to for m in mailoutbox if "Published" in m.subject] == [[partner_member.user.email]] * 2
    assert AuditEntry.objects.filter(app_id=app.pk, event_type="listing_version_published").count() == 2


def test_other_partner_cannot_request(partner_member, other_partner_member):
    listing = complete_listing(ListingFactory(app=AppFactory(partner=partner_member.partner)))
    with pytest.raises(PermissionDenied):
        listings.request_publish(actor=other_partner_member.user, listing=listing)


def test_non_staff_cannot_approve(partner_member):
    listing = complete_listing(ListingFactory(app=AppFactory(partner=partner_member.partner)))
    listings.request_publish(actor=partner_member.user, listing=listing)
    with pytest.raises(PermissionDenied):
        review.approve_listing(actor=partner_member.user, listing=listing)


def test_new_version_keeps_the_apps_featuring_and_first_listed_date(partner_member, app_manager):
    app = AppFactory(partner=partner_member.partner, is_featured=True)
    first = complete_listing(ListingFactory(app=app))
    listings.request_publish(actor=partner_member.user, listing=first)
    review.approve_listing(actor=app_manager, listing=first)
    app.refresh_from_db()
    listed_at = app.listed_at
    assert listed_at is not None
    second = listings.create_listing_version(actor=partner_member.user, app=app)
    listings.request_publish(actor=partner_member.user, listing=second)
    review.approve_listing(actor=app_manager, listing=second)
    app.refresh_from_db()
    assert app.listed_at == listed_at and app.is_featured


def test_custom_apps_cannot_ask_for_a_store_listing(partner_member):
    listing = complete_listing(ListingFactory(app=AppFactory(partner=partner_member.partner,
                                                             is_custom=True)))
    assert listings.missing_for_publish(listing) == [
        "Custom apps are not listed in the App Store: they are activated for one customer."]
    with pytest.raises(ValidationError):
        listings.request_publish(actor=partner_member.user, listing=listing)

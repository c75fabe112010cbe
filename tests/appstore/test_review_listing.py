"""Reviewing one version: side-by-side comparison with the live version, approve, reject."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appstore.models import LinkKind, ListingImage, ListingVersion, VersionState
from appstore.selectors import review as review_selectors
from appstore.services import listings, review
from audit.models import AuditEntry
from tests.factories import AppFactory, ListingFactory, complete_listing, published_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)


@pytest.fixture
def live(app):
    listing = published_listing(app=app, label="1.0", header="Old header for the store")
    listing.links.filter(kind=LinkKind.INSTALL).update(url="https://old.example.com/install")
    return listing


@pytest.fixture
def pending(app, live, partner_member):
    """Version 1.1, requested through the service, with a new header and install URL."""
    listing = listings.create_listing_version(actor=partner_member.user, app=app)
    listings.update_listing(actor=partner_member.user, listing=listing,
                            fields={"header": "New header for the store"},
                            links={"install": {"url": "https://new.example.com/install?ref=store",
                                               "label": "Start free trial"}})
    return listings.request_publish(actor=partner_member.user, listing=listing)


def url(listing: ListingVersion) -> str:
    return reverse("review:listing", args=[listing.pk])


def seen(client, listing: ListingVersion) -> str:
    """The fingerprint the review page puts in its decision forms."""
    response = client.get(url(listing))
    fingerprint = response.context["fingerprint"]
    assert f'name="seen_fingerprint" value="{fingerprint}"' in response.content.decode()
    return fingerprint


# ---------------------------------------------------------------- the comparison

def test_comparison_shows_old_and_new_value_of_changed_field(staff_client, live, pending):
    response = staff_client.get(url(pending))

    assert response.status_code == 200
    rows = {row.key: row for row in response.context["rows"]}
    assert rows["header"].old == ["Old header for the store"]
    assert rows["header"].new == ["New header for the store"]
    assert rows["header"].changed
    assert not rows["requirements"].changed
    assert rows["link-install"].changed
    html = response.content.decode()
    assert "Old header for the store" in html and "New header for the store" in html
    assert 'class="changed"' in html and "diff-old" in html and "diff-new" in html
    assert "Live version 1.0" in html
    assert response.context["baseline"] == live


def test_links_are_plain_text(staff_client, pending):
    html = staff_client.get(url(pending)).content.decode()
    assert "Start free trial → https://new.example.com/install?ref=store" in html
    assert 'href="https://new.example.com' not in html


def test_new_images_are_thumbnails_with_alt_text(staff_client, pending):
    html = staff_client.get(url(pending)).content.decode()
    for image in pending.images.all():
        assert f'src="{image.image.url}" alt="{image.alt_text}"' in html
    assert pending.images.count() == 3


def test_first_listing_says_not_published_yet(staff_client, app, partner_member):
    first = listings.request_publish(actor=partner_member.user,
                                     listing=complete_listing(ListingFactory(app=app)))
    response = staff_client.get(url(first))
    assert response.context["baseline"] is None
    assert not any(row.changed for row in response.context["rows"])
    html = response.content.decode()
    assert "Not published yet" in html
    assert "First listing" in html


def test_review_page_query_count_does_not_grow_with_images(staff_client, pending,
                                                          django_assert_num_queries):
    with CaptureQueriesContext(connection) as before:
        staff_client.get(url(pending))
    for i in range(5):
        pending.images.create(kind="screenshot", image=pending.images.first().image.name,
                              alt_text=f"Extra {i}", position=i + 1, width=1920, height=1080)
    with django_assert_num_queries(len(before)):
        response = staff_client.get(url(pending))
    assert "Extra 4" in response.content.decode()


# ---------------------------------------------------------------- approve

def test_approve_publishes_supersedes_and_emails_technical_contact(
        staff_client, app, live, pending, partner_member, mailoutbox,
        django_capture_on_commit_callbacks):
    fingerprint = seen(staff_client, pending)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(pending), {"action": "approve",
                                                    "seen_fingerprint": fingerprint})

    assert response.status_code == 302
    assert response["Location"] == reverse("review:queue")
    pending.refresh_from_db()
    live.refresh_from_db()
    assert pending.state == VersionState.PUBLISHED and pending.is_live
    assert pending.reviewed_by.email == "reviewer@example.com"
    assert live.superseded_at is not None
    assert list(ListingVersion.objects.filter(app=app, state="published",
                                              superseded_at__isnull=True)) == [pending]
    assert [m.to for m in mailoutbox] == [[partner_member.user.email]]
    assert "Published" in mailoutbox[0].subject
    assert AuditEntry.objects.filter(app_id=app.pk, event_type="listing_version_published",
                                     source="review").exists()
    followed = staff_client.get(response["Location"])
    assert "is approved and live" in followed.content.decode()


def test_approving_a_version_that_is_not_pending_is_refused(staff_client, live, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    draft = ListingFactory(app=live.app, label="1.1")
    for listing in (draft, live):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(url(listing), {"action": "approve"}, follow=True)
        assert response.redirect_chain[-1][0] == url(listing)
        assert "Only a pending version can be approved." in response.content.decode()
    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.state == VersionState.DRAFT
    assert live.is_live and live.superseded_at is None
    assert mailoutbox == []


# ---------------------------------------------------------------- reject

def test_reject_requires_a_reason(staff_client, pending, mailoutbox,
                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(pending), {"action": "reject", "reason": "   "})

    assert response.status_code == 400
    form = response.context["reject_form"]
    assert "reason" in form.errors
    html = response.content.decode()
    assert "Reason: Say why the version is rejected" in html
    assert 'aria-invalid="true"' in html
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING
    assert mailoutbox == []


def test_reject_stores_reason_emails_contact_and_reopens_version(
        staff_client, app, pending, partner_member, mailoutbox, django_capture_on_commit_callbacks):
    reason = "The screenshots show another product.\nPlease replace them."
    fingerprint = seen(staff_client, pending)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(pending), {"action": "reject", "reason": reason,
                                                    "seen_fingerprint": fingerprint})

    assert response.status_code == 302
    assert response["Location"] == reverse("review:queue")
    pending.refresh_from_db()
    assert pending.state == VersionState.REJECTED
    assert pending.is_editable
    assert pending.review_reason == reason
    assert [m.to for m in mailoutbox] == [[partner_member.user.email]]
    assert "The screenshots show another product." in mailoutbox[0].body
    # Editable again: the partner can save it without an error.
    listings.update_listing(actor=partner_member.user, listing=pending,
                            fields={"header": "Fixed header"})
    assert AuditEntry.objects.filter(app_id=app.pk, event_type="listing_version_rejected").exists()


def test_rejected_version_is_read_only_with_its_reason(staff_client, pending, app_manager):
    review.reject_listing(actor=app_manager, listing=pending, reason="Icons are blurry.")

    response = staff_client.get(url(pending))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This version is rejected" in html
    assert "Icons are blurry." in html
    assert 'value="approve"' not in html and 'value="reject"' not in html
    again = staff_client.post(url(pending), {"action": "reject", "reason": "Twice"}, follow=True)
    assert "Only a pending version can be rejected." in again.content.decode()
    pending.refresh_from_db()
    assert pending.review_reason == "Icons are blurry."


def test_unknown_action_is_a_bad_request(staff_client, pending):
    assert staff_client.post(url(pending), {"action": "publish-now"}).status_code == 400
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


# ---------------------------------------------------------------- a decision is about what was seen

PHISHING = "https://phish.example.net/install"


def change_after_opening(listing: ListingVersion, member) -> ListingVersion:
    """The partner withdraws, points the green button elsewhere and requests publishing again."""
    listing = listings.withdraw_request(actor=member, listing=listing)
    listings.update_listing(actor=member, listing=listing, fields={},
                            links={"install": {"url": PHISHING, "label": "Start free trial"}})
    return listings.request_publish(actor=member, listing=listing)


def test_approve_is_refused_when_the_version_changed_after_the_page_was_opened(
        staff_client, live, pending, partner_member, mailoutbox,
        django_capture_on_commit_callbacks):
    opened = seen(staff_client, pending)
    change_after_opening(pending, partner_member.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(pending), {"action": "approve", "seen_fingerprint": opened},
                                     follow=True)

    pending.refresh_from_db()
    live.refresh_from_db()
    assert pending.state == VersionState.PENDING
    assert live.is_live
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(event_type="listing_version_published").exists()
    # Back on the review page, with the message and the content as it is now.
    assert response.redirect_chain[-1][0] == url(pending)
    html = response.content.decode()
    assert "This version changed after you opened it; review it again." in html
    assert PHISHING in html
    fresh = response.context["fingerprint"]
    assert fresh != opened
    # Having seen the new content, the reviewer can decide about it.
    staff_client.post(url(pending), {"action": "approve", "seen_fingerprint": fresh})
    pending.refresh_from_db()
    assert pending.state == VersionState.PUBLISHED


def test_reject_is_refused_when_the_version_changed_and_keeps_the_reason(
        staff_client, pending, partner_member, mailoutbox, django_capture_on_commit_callbacks):
    opened = seen(staff_client, pending)
    change_after_opening(pending, partner_member.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(pending), {
            "action": "reject", "reason": "Header is too vague.", "seen_fingerprint": opened})

    assert response.status_code == 409
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING and pending.review_reason == ""
    assert mailoutbox == []
    html = response.content.decode()
    assert html.count("This version changed after you opened it; review it again.") == 2
    assert "Header is too vague.</textarea>" in html
    assert PHISHING in html
    assert response.context["fingerprint"] not in ("", opened)
    assert f'value="{response.context["fingerprint"]}"' in html


def test_a_decision_without_the_fingerprint_is_refused(staff_client, pending):
    response = staff_client.post(url(pending), {"action": "approve"}, follow=True)
    assert "review it again" in response.content.decode()
    response = staff_client.post(url(pending), {"action": "reject", "reason": "No."})
    assert response.status_code == 409
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


def test_services_refuse_a_stale_fingerprint(pending, app_manager):
    with pytest.raises(ValidationError, match="changed after you opened it"):
        review.approve_listing(actor=app_manager, listing=pending, seen_fingerprint="0" * 64)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        review.reject_listing(actor=app_manager, listing=pending, reason="No.",
                                seen_fingerprint="0" * 64)
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING
    review.approve_listing(actor=app_manager, listing=pending,
                             seen_fingerprint=listings.listing_fingerprint(pending))
    pending.refresh_from_db()
    assert pending.state == VersionState.PUBLISHED


def test_fingerprint_sees_content_the_comparison_does_not_show(pending):
    """Same value whichever way the version is loaded; a swapped image file or a reordered
    screenshot changes it although alt text and size stay the same."""
    before = listings.listing_fingerprint(pending)
    assert before == listings.listing_fingerprint(review_selectors.listing_for_review(pending.pk))
    assert before == listings.listing_fingerprint(ListingVersion.objects.get(pk=pending.pk))

    image = pending.images.get(kind="home_icon")
    ListingImage.objects.filter(pk=image.pk).update(image="listings/other-icon.png")
    swapped = listings.listing_fingerprint(ListingVersion.objects.get(pk=pending.pk))
    assert swapped != before
    assert listings.snapshot(pending) == listings.snapshot(ListingVersion.objects.get(pk=pending.pk))


# ---------------------------------------------------------------- About, rendered

def test_about_is_shown_rendered_and_sanitised_in_both_columns(staff_client, live, pending):
    ListingVersion.objects.filter(pk=live.pk).update(about="<p>Old text with <b>bold</b> words.</p>")
    # Written past the service, as a row that was never cleaned would be.
    ListingVersion.objects.filter(pk=pending.pk).update(
        about='<p>New <em>lovely</em> text.</p><script>alert("x")</script>'
              '<img src="x" onerror="alert(1)"><a href="javascript:alert(2)">bad link</a>')

    response = staff_client.get(url(pending))

    html = response.content.decode()
    assert "<b>bold</b>" in html and "<em>lovely</em>" in html
    assert "&lt;b&gt;" not in html and "&lt;p&gt;" not in html
    assert "<script>alert" not in html and "onerror" not in html and "javascript:" not in html
    about = {row.key: row for row in response.context["rows"]}["about"]
    assert about.changed and about.is_rich
    assert 'class="diff-old rich-text diff-rich"' in html
    assert 'class="diff-new rich-text diff-rich"' in html


# ---------------------------------------------------------------- a first listing rejected before

def test_resubmitted_first_listing_shows_the_rejection_and_the_edits_since(
        staff_client, app, partner_member, app_manager):
    first = listings.request_publish(actor=partner_member.user,
                                     listing=complete_listing(ListingFactory(app=app)))
    first = review.reject_listing(actor=app_manager, listing=first,
                                    reason="The header promises too much.")
    listings.update_listing(actor=partner_member.user, listing=first,
                            fields={"header": "A modest header for the store"})
    listings.request_publish(actor=partner_member.user, listing=first)

    response = staff_client.get(url(first))

    rejection = response.context["rejection"]
    assert rejection.version == first and rejection.same_version
    html = response.content.decode()
    assert "Rejected before" in html
    assert "This version was rejected" in html
    assert "The header promises too much." in html
    assert "A modest header for the store" in html
    assert f"{app.name} keeps your CRM in step" in html  # the header as it was rejected
    assert "event_type=listing_version_updated" in html


def test_rejected_earlier_version_is_linked(staff_client, app, partner_member):
    old = ListingFactory(app=app, label="1.0", state=VersionState.REJECTED,
                         review_reason="Screenshots are of another app.", reviewed_at=timezone.now())
    new = complete_listing(ListingFactory(app=app, label="1.1", state=VersionState.PENDING,
                                          submitted_at=timezone.now()))

    html = staff_client.get(url(new)).content.decode()

    assert f'href="{url(old)}">Version 1.0</a> was rejected' in html
    assert "Screenshots are of another app." in html


def test_no_rejection_note_for_an_update_or_a_listing_never_rejected(staff_client, app, pending,
                                                                     app_manager):
    assert staff_client.get(url(pending)).context["rejection"] is None
    other = AppFactory(partner=app.partner)
    fresh = complete_listing(ListingFactory(app=other, state=VersionState.PENDING))
    response = staff_client.get(url(fresh))
    assert response.context["rejection"] is None
    assert "Rejected before" not in response.content.decode()

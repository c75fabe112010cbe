from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from appstore.models import ListingLink, ListingVersion, ListingVideo, VersionState
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


# ---------------------------------------------------------------- the listing rules, for every caller


def listing_state(listing) -> tuple:
    return (ListingVersion.objects.values().get(pk=listing.pk),
            list(listing.links.values_list("kind", "url", "label")),
            list(listing.videos.values_list("youtube_id", "description", "position")))


def videos(count: int) -> list[dict]:
    return [{"youtube_id": f"dQw4w9WgX{n % 100:02d}", "description": f"Video {n}"}
            for n in range(count)]


@pytest.fixture
def draft(partner_member):
    listing = ListingFactory(app=AppFactory(partner=partner_member.partner))
    ListingLink.objects.create(listing=listing, kind="install", url="https://partner.example.com/go",
                               label="Install")
    ListingVideo.objects.create(listing=listing, youtube_id="dQw4w9WgXcQ", description="Demo")
    return listing


REFUSED = [
    ({"fields": {"lowest_price_eur": Decimal("-5")}}, "lowest_price_eur", "cannot be negative"),
    ({"fields": {"lowest_price_eur": "-5"}}, "lowest_price_eur", "cannot be negative"),
    ({"fields": {"lowest_price_eur": Decimal("100000.01")}}, "lowest_price_eur",
     "at most 100,000.00 EUR"),
    ({"fields": {"lowest_price_eur": Decimal("NaN")}}, "lowest_price_eur", "Enter a number"),
    ({"fields": {"lowest_price_eur": "cheap"}}, "lowest_price_eur", "Enter a number"),
    ({"fields": {"terms_url": "http://partner.example.com/terms"}}, "terms_url",
     "Use an https:// address"),
    ({"fields": {"terms_url": "javascript:alert(1)"}}, "terms_url", "Enter a valid URL"),
    ({"fields": {"terms_url": "https://partner.example.com/" + "t" * 200}}, "terms_url",
     "at most 200 characters"),
    ({"links": {"support": {"url": "http://partner.example.com/help", "label": "Help"}}}, "links",
     "Support link: Use an https:// address"),
    ({"links": {"install": {"url": "https://" + "a" * 500 + ".example.com", "label": ""}}}, "links",
     "at most 500 characters"),
    ({"links": {"install": {"url": "https://partner.example.com/go", "label": "Win a prize"}}},
     "links", "the green button's label is one of"),
    ({"links": {"support": {"url": "https://partner.example.com/help", "label": "h" * 61}}},
     "links", "at most 60 characters"),
    ({"links": {"uninstall": {"url": "", "label": "Remove"}}}, "links",
     "enter the URL for this link, or clear its label"),
    ({"links": {"telepathy": {"url": "https://partner.example.com/x"}}}, "links",
     "Unknown link kind telepathy"),
    ({"links": {"install": "https://partner.example.com/go"}}, "links", "give its URL and label"),
    ({"links": ["https://partner.example.com/go"]}, "links", "must map a link kind"),
    ({"videos": videos(6)}, "videos", "6 videos; at most 5 are allowed."),
    ({"videos": videos(500)}, "videos", "500 videos; at most 5 are allowed."),
    ({"videos": [{"youtube_id": "dQw4w9WgXcQ"}]}, "videos", "Video 1: describe the video"),
    ({"videos": [{"description": "Demo"}]}, "videos", "Video 1: the YouTube ID is required."),
    ({"videos": [{"url": "https://evil.example/x"}]}, "videos", "Video 1: the YouTube ID is required."),
    ({"videos": [{"youtube_id": "https://youtu.be/dQw4w9WgXcQ", "description": "Demo"}]}, "videos",
     "Video 1: A YouTube video ID is 11 letters"),
    ({"videos": [{"youtube_id": "dQw4w9WgXcQ", "description": "d" * 201}]}, "videos",
     "at most 200 characters"),
    ({"videos": ["dQw4w9WgXcQ"]}, "videos", "Video 1: give its YouTube ID and description."),
    ({"fields": {"key_features": ["Fast", "   "]}}, "key_features", "key feature 2"),
    ({"fields": {"install_steps": ["Step"] * 21}}, "install_steps", "at most 20"),
]


@pytest.mark.parametrize(("change", "field", "message"), REFUSED)
def test_update_refuses_what_the_portal_refuses_and_changes_nothing(partner_member, draft, change,
                                                                    field, message):
    before = listing_state(draft)
    kwargs = {"fields": {"header": "Changed"}, **change}
    kwargs["fields"] = {"header": "Changed", **kwargs["fields"]}
    with pytest.raises(ValidationError) as exc:
        listings.update_listing(actor=partner_member.user, listing=draft, **kwargs)
    assert list(exc.value.message_dict) == [field]
    assert message in " ".join(exc.value.message_dict[field])
    assert listing_state(draft) == before
    assert not AuditEntry.objects.filter(event_type="listing_version_updated").exists()


def test_every_broken_rule_is_reported_at_once(partner_member, draft):
    with pytest.raises(ValidationError) as exc:
        listings.update_listing(actor=partner_member.user, listing=draft,
                                fields={"lowest_price_eur": Decimal("-1"),
                                        "terms_url": "http://partner.example.com/terms"},
                                links={"support": {"url": "http://partner.example.com/help"}},
                                videos=videos(6))
    assert set(exc.value.message_dict) == {"lowest_price_eur", "terms_url", "links", "videos"}


def test_values_at_the_limits_are_saved(partner_member, draft):
    listings.update_listing(
        actor=partner_member.user, listing=draft,
        fields={"lowest_price_eur": listings.MAX_PRICE_EUR, "terms_url": "http://127.0.0.1:8000/terms"},
        links={"install": {"url": "https://partner.example.com/go", "label": "Get free demo"},
               "support": {"url": "http://localhost:8000/help", "label": ""},
               "uninstall": {"url": "", "label": ""}},
        videos=videos(5))
    draft.refresh_from_db()
    assert draft.lowest_price_eur == Decimal("100000.00")
    assert draft.terms_url == "http://127.0.0.1:8000/terms"
    assert list(draft.links.values_list("kind", "label")) == [("install", "Get free demo"),
                                                             ("support", "Support")]
    assert draft.videos.count() == 5
    listings.update_listing(actor=partner_member.user, listing=draft,
                            fields={"lowest_price_eur": Decimal("0")})
    draft.refresh_from_db()
    assert draft.lowest_price_eur == Decimal("0")


def test_the_portal_form_shows_the_services_price_limit_on_its_field(partner_client, draft):
    from tests.appstore.test_portal_listing import form_data

    url = reverse("portal:listing", args=[draft.app_id, draft.pk])
    response = partner_client.post(url, form_data(lowest_price_eur="250000"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["lowest_price_eur"]
    assert "at most 100,000.00 EUR" in response.context["form"].errors["lowest_price_eur"][0]
    draft.refresh_from_db()
    assert draft.lowest_price_eur == Decimal("9.00")

"""The listing editor: save rules, live validation, the publish panel and the change log."""

import json

import pytest
from django.urls import reverse

from appstore.models import Category, Language, LinkKind, ListingVersion, Market, VersionState
from appstore.services import listings, review
from tests.factories import AppFactory, ListingFactory, complete_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    return ListingFactory(app=app, label="1.0", header="Old header", meta_description="")


def url(listing, name="portal:listing"):
    return reverse(name, args=[listing.app_id, listing.pk])


def form_data(**overrides):
    data = {
        "label": "1.0", "header": "Keeps your CRM and ERP in step",
        "about": "<p>Sync <b>customers</b> and orders.</p>", "key_features": "Two-way sync\nFast setup",
        "whats_new": "", "categories": [Category.objects.get(slug="erp").pk],
        "languages": [Language.objects.get(code="en").pk], "markets": [Market.objects.get(slug="norway").pk],
        "lowest_price_eur": "12.50", "price_model": "per_user_month", "startup_cost": "None",
        "consultancy": "Optional", "terms_url": "https://partner.example.com/terms",
        "supported_plans": "Standard, Premium", "install_steps": "Click Install\nApprove",
        "requirements": "CRM Online",
        "meta_description": "Two-way sync between your CRM and ERP, set up in minutes.",
        "keywords": "erp, sync",
        "link_install_url": "https://partner.example.com/install", "link_install_label": "Start free trial",
        "link_configure_url": "", "link_configure_label": "",
        "link_support_url": "https://partner.example.com/support", "link_support_label": "Help centre",
        "link_report_problem_url": "", "link_report_problem_label": "",
        "link_uninstall_url": "", "link_uninstall_label": "",
        "video_0_youtube_id": "dQw4w9WgXcQ", "video_0_description": "A two-minute tour",
    }
    for i in range(1, 5):
        data[f"video_{i}_youtube_id"] = data[f"video_{i}_description"] = ""
    data.update(overrides)
    return data


def test_save_stores_every_field(partner_client, listing):
    response = partner_client.post(url(listing), form_data())
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.header == "Keeps your CRM and ERP in step"
    assert listing.key_features == ["Two-way sync", "Fast setup"]
    assert listing.install_steps == ["Click Install", "Approve"]
    assert str(listing.lowest_price_eur) == "12.50"
    assert [c.slug for c in listing.categories.all()] == ["erp"]
    links = {link.kind: (link.url, link.label) for link in listing.links.all()}
    assert links == {"install": ("https://partner.example.com/install", "Start free trial"),
                     "support": ("https://partner.example.com/support", "Help centre")}
    videos = [(v.youtube_id, v.description) for v in listing.videos.all()]
    assert videos == [("dQw4w9WgXcQ", "A two-minute tour")]


def test_about_is_sanitised_by_the_service(partner_client, listing):
    about = '<p onclick="x()">Hi <script>alert(1)</script><i>there</i></p>'
    partner_client.post(url(listing), form_data(about=about))
    listing.refresh_from_db()
    assert "script" not in listing.about and "onclick" not in listing.about
    assert "<i>there</i>" in listing.about


def test_missing_values_do_not_block_a_draft(partner_client, listing):
    response = partner_client.post(url(listing), form_data(header="", about="", categories=[],
                                                           meta_description="Too short"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.header == "" and listing.meta_description == "Too short"
    page = partner_client.get(url(listing)).content.decode()
    assert "Short header is required." in page
    assert "SEO meta description must be 50–160 characters." in page


def test_youtube_address_is_accepted_as_id(partner_client, listing):
    partner_client.post(url(listing), form_data(video_0_youtube_id="https://www.youtube.com/watch?v=dQw4w9WgXcQ"))
    assert listing.videos.get().youtube_id == "dQw4w9WgXcQ"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("header", "h" * 99, "at most 98 characters"),
    ("meta_description", "m" * 161, "at most 160 characters"),
    ("key_features", "\n".join(f"Feature {n}" for n in range(11)), "at most 10"),
    ("about", "<p>" + "word " * 201 + "</p>", "201 words"),
    ("terms_url", "http://partner.example.com/terms", "https://"),
    ("terms_url", "not a url at all", "valid URL"),
    ("link_install_url", "http://partner.example.com/install", "https://"),
    ("link_support_url", "javascript:alert(1)", "valid URL"),
    ("video_0_youtube_id", "too-short", "11 letters"),
    ("lowest_price_eur", "-5", "cannot be negative"),
    ("link_install_label", "Buy now!", "valid choice"),
])
def test_format_errors_block_saving_and_are_named_on_their_field(partner_client, listing, field, value,
                                                                 message):
    response = partner_client.post(url(listing), form_data(**{field: value}))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message.split()[0] in html
    # Everything typed is kept, the bad value and the good ones.
    form = response.context["form"]
    assert form[field].value() == value
    assert form["header"].value() == (value if field == "header" else "Keeps your CRM and ERP in step")
    listing.refresh_from_db()
    assert listing.header == "Old header"  # nothing saved


def test_http_is_allowed_for_localhost_links(partner_client, listing):
    response = partner_client.post(url(listing), form_data(link_configure_url="http://127.0.0.1:8000/setup",
                                                           link_configure_label="Set up"))
    assert response.status_code == 302
    assert listing.links.get(kind=LinkKind.CONFIGURE).url == "http://127.0.0.1:8000/setup"


def test_video_rows_need_both_id_and_description(partner_client, listing):
    response = partner_client.post(url(listing), form_data(video_1_youtube_id="abcdefghijk",
                                                           video_2_description="Orphan text"))
    errors = response.context["form"].errors
    assert set(errors) == {"video_1_description", "video_2_youtube_id"}


def test_validate_only_answers_json_and_saves_nothing(partner_client, listing):
    response = partner_client.post(url(listing), form_data(header="h" * 99, lowest_price_eur="-1"),
                                   headers={"X-Validate-Only": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"header", "lowest_price_eur"}
    assert "at most 98 characters" in body["header"][0]
    assert body["lowest_price_eur"] == ["The price cannot be negative."]
    listing.refresh_from_db()
    assert listing.header == "Old header"

    clean = partner_client.post(url(listing), form_data(header="Changed"), headers={"X-Validate-Only": "1"})
    assert clean.json() == {}
    listing.refresh_from_db()
    assert listing.header == "Old header"


def test_editor_page_has_every_field_and_the_live_script(partner_client, listing):
    html = partner_client.get(url(listing)).content.decode()
    for name in form_data():
        assert f'name="{name}"' in html, name
    assert "js/listing-editor.js" in html
    assert 'data-maxwords="200"' in html and 'data-maxlength="98"' in html
    for kind in ("home_icon", "detail_icon", "screenshot"):
        assert f'enctype="multipart/form-data" action="{url(listing)}images/{kind}/#images"' in html


def test_request_button_disabled_with_missing_list_and_post_refused(partner_client, listing):
    html = partner_client.get(url(listing)).content.decode()
    assert 'disabled aria-describedby="missing-intro">Request publishing' in html
    assert "Home icon is required." in html and "Install link (the green button) is required." in html

    response = partner_client.post(url(listing, "portal:listing_request"), follow=True)
    assert "Publishing cannot be requested yet" in response.content.decode()
    listing.refresh_from_db()
    assert listing.state == VersionState.DRAFT


def test_complete_listing_can_be_requested_then_is_locked_and_can_be_withdrawn(partner_client, listing):
    listing.meta_description = "A listing that is complete enough to publish in the App Store today."
    listing.save()
    complete_listing(listing)
    page = partner_client.get(url(listing)).content.decode()
    assert "Everything the store needs is in place." in page
    assert 'type="submit">Request publishing' in page

    partner_client.post(url(listing, "portal:listing_request"))
    listing.refresh_from_db()
    assert listing.state == VersionState.PENDING

    pending = partner_client.get(url(listing))
    html = pending.content.decode()
    assert all(field.disabled for field in pending.context["form"].fields.values())
    assert "Withdraw request" in html and "Save draft" not in html
    refused = partner_client.post(url(listing), form_data(header="Sneaky change"))
    assert refused.status_code == 302
    listing.refresh_from_db()
    assert listing.header != "Sneaky change"

    partner_client.post(url(listing, "portal:listing_withdraw"))
    listing.refresh_from_db()
    assert listing.state == VersionState.DRAFT


def test_rejected_version_shows_reason_and_is_editable(partner_client, listing):
    listing.state = VersionState.REJECTED
    listing.review_reason = "The screenshots show a different app."
    listing.save()
    response = partner_client.get(url(listing))
    html = response.content.decode()
    assert 'class="review-reason" role="alert"' in html
    assert "The screenshots show a different app." in html
    assert not any(field.disabled for field in response.context["form"].fields.values())
    partner_client.post(url(listing), form_data(header="Fixed header"))
    listing.refresh_from_db()
    assert listing.header == "Fixed header"


def test_published_version_is_read_only_with_store_link(partner_client, listing):
    complete_listing(listing)
    listing.state = VersionState.PUBLISHED
    listing.save()
    response = partner_client.get(url(listing))
    html = response.content.decode()
    assert all(field.disabled for field in response.context["form"].fields.values())
    assert f"/apps/{listing.app.partner.seo_name}/{listing.app.seo_name}/" in html
    assert "Upload" not in html and "Save draft" not in html


def test_change_log_json_lists_this_versions_changes_only(partner_client, partner_member, listing,
                                                          app_manager):
    listing.meta_description = "A listing that is complete enough to publish in the App Store today."
    listing.save()
    complete_listing(listing)
    partner_client.post(url(listing), form_data(header="First header"))
    listings.request_publish(actor=partner_member.user, listing=listing)
    review.approve_listing(actor=app_manager, listing=listing)
    second = listings.create_listing_version(actor=partner_member.user, app=listing.app)
    partner_client.post(url(second), form_data(label=second.label, header="Second header"))

    response = partner_client.get(url(listing, "portal:listing_changes"))
    assert response["Content-Disposition"].startswith("attachment;")
    body = json.loads(response.content)
    events = [e["event"] for e in body["entries"]]
    assert body["listing_version"] == {"id": listing.pk, "label": "1.0", "state": "published"}
    assert events == ["listing_version_updated", "listing_version_requested", "listing_version_published"]
    assert body["entries"][0]["changes"]["header"] == ["Old header", "First header"]
    assert body["entries"][0]["actor"] == partner_member.user.email

    second_log = partner_client.get(url(second, "portal:listing_changes")).json()
    second_events = [e["event"] for e in second_log["entries"]]
    assert second_events == ["listing_version_created", "listing_version_updated"]
    assert second_log["entries"][1]["changes"]["header"] == ["First header", "Second header"]


def test_form_values_survive_a_round_trip(partner_client, listing):
    partner_client.post(url(listing), form_data())
    form = partner_client.get(url(listing)).context["form"]
    assert form.initial["key_features"] == "Two-way sync\nFast setup"
    assert form.initial["link_install_label"] == "Start free trial"
    assert form.initial["video_0_youtube_id"] == "dQw4w9WgXcQ"
    assert ListingVersion.objects.get(pk=listing.pk).price_model == "per_user_month"

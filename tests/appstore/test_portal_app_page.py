"""The portal's app page and settings: a published app keeps its address; store clicks per link."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from appstore.models import LinkClick, LinkKind, VersionState
from appstore.selectors import portal as portal_selectors
from appstore.services import apps as app_services
from tests.factories import AppFactory, ListingFactory, png_upload, published_listing

pytestmark = pytest.mark.django_db

LOCK_NOTE = "Published apps keep their address; ask staff to change it."


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, name="Ledger Link", seo_name="ledger-link",
                      technical_contact=partner_member.user)


def settings_data(member, **overrides):
    data = {"name": "Ledger Link", "seo_name": "ledger-link", "technical_contact": member.user.pk,
            "error_report_emails": "", "uninstall_report_emails": ""}
    data.update(overrides)
    return data


def settings_url(app):
    return reverse("portal:app_settings", args=[app.pk])


def test_unpublished_app_can_change_its_seo_name(partner_client, partner_member, app):
    ListingFactory(app=app, state=VersionState.REJECTED)
    page = partner_client.get(settings_url(app))
    assert not page.context["form"].fields["seo_name"].disabled
    assert LOCK_NOTE not in page.content.decode()

    response = partner_client.post(settings_url(app), settings_data(partner_member, seo_name="ledger-sync"))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.seo_name == "ledger-sync"


def test_published_app_shows_its_seo_name_read_only(partner_client, partner_member, app):
    published_listing(app=app)
    page = partner_client.get(settings_url(app))
    html = page.content.decode()
    assert page.context["form"].fields["seo_name"].disabled
    assert re.search(r'<input[^>]*name="seo_name"[^>]*value="ledger-link"[^>]*disabled', html)
    assert LOCK_NOTE in html

    response = partner_client.post(settings_url(app), settings_data(
        partner_member, name="Ledger Link Pro", seo_name="hijacked-address"))
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.name, app.seo_name) == ("Ledger Link Pro", "ledger-link")


def test_a_superseded_publication_still_locks_the_address(partner_member, app):
    old = published_listing(app=app)
    old.superseded_at = timezone.now()
    old.save()
    ListingFactory(app=app, label="1.1")  # the open draft
    assert app_services.seo_name_locked(app)
    with pytest.raises(ValidationError) as exc:
        app_services.update_app_settings(actor=partner_member.user, app=app, seo_name="new-address")
    assert exc.value.message_dict["seo_name"] == [LOCK_NOTE]
    app.refresh_from_db()
    assert app.seo_name == "ledger-link"


def test_app_manager_can_still_change_the_address(app, app_manager):
    published_listing(app=app)
    app_services.update_app_settings(actor=app_manager, app=app, seo_name="ledger-link-2")
    app.refresh_from_db()
    assert app.seo_name == "ledger-link-2"


# ---------------------------------------------------------------- store clicks

def click(app, kind, *, days_ago=0):
    entry = LinkClick.objects.create(app=app, kind=kind)
    if days_ago:
        LinkClick.objects.filter(pk=entry.pk).update(at=timezone.now() - timedelta(days=days_ago))


def test_app_page_shows_store_clicks_of_the_last_30_days(partner_client, app, other_partner_member):
    for _ in range(3):
        click(app, LinkKind.INSTALL)
    click(app, LinkKind.SUPPORT, days_ago=29)
    click(app, LinkKind.INSTALL, days_ago=31)
    other_app = AppFactory(partner=other_partner_member.partner)
    click(other_app, LinkKind.INSTALL)

    response = partner_client.get(reverse("portal:app", args=[app.pk]))

    assert response.context["clicks"] == [
        ("Install (the green button)", 3), ("Configure", 0), ("Support", 1),
        ("Report a problem", 0), ("Uninstall", 0)]
    html = response.content.decode()
    assert "Store clicks, last 30 days" in html
    assert re.search(r'<th scope="row">Install \(the green button\)</th><td class="num">3</td>', html)


def test_store_clicks_are_scoped_to_the_partner_in_one_query(partner_member, other_partner_member, app,
                                                             django_assert_num_queries):
    click(app, LinkKind.INSTALL)
    with django_assert_num_queries(1):
        own = portal_selectors.store_clicks(partner_member.partner, app.pk)
    assert own[0] == ("Install (the green button)", 1)
    # Another partner asking about this app's id sees nothing.
    others = portal_selectors.store_clicks(other_partner_member.partner, app.pk)
    assert all(count == 0 for _label, count in others)


# ---------------------------------------------------------------- image names

def test_uploaded_images_get_unguessable_names(partner_client, app):
    listing = ListingFactory(app=app)
    upload_url = reverse("portal:listing_image_add", args=[app.pk, listing.pk, "screenshot"])
    for _ in range(2):
        partner_client.post(upload_url, {"screenshot-image": png_upload(1920, 1080, "screenshot.png"),
                                         "screenshot-alt_text": "The dashboard"})

    names = [image.image.name for image in listing.images.all()]
    assert len(names) == 2 and names[0] != names[1]
    for name in names:
        assert re.fullmatch(rf"listings/{app.pk}/[0-9a-f]{{32}}\.png", name), name
        assert "screenshot" not in name

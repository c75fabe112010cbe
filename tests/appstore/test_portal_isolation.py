"""Two partners never see each other's apps; permission flags guard every write."""

import pytest
from django.test import Client
from django.urls import reverse

from appstore.models import App, VersionState
from appstore.selectors.partners import SESSION_KEY
from tests.factories import AppFactory, ListingFactory, PartnerMemberFactory, complete_listing, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_listing(partner_member):
    app = AppFactory(partner=partner_member.partner, name="Secret App of A",
                     technical_contact=partner_member.user)
    listing = complete_listing(ListingFactory(app=app))
    return listing


def portal_urls(listing):
    app_id, pk = listing.app_id, listing.pk
    image = listing.images.first()
    return [
        ("get", reverse("portal:app", args=[app_id])),
        ("get", reverse("portal:app_settings", args=[app_id])),
        ("post", reverse("portal:app_settings", args=[app_id])),
        ("post", reverse("portal:listing_new", args=[app_id])),
        ("get", reverse("portal:listing", args=[app_id, pk])),
        ("post", reverse("portal:listing", args=[app_id, pk])),
        ("post", reverse("portal:listing_request", args=[app_id, pk])),
        ("post", reverse("portal:listing_withdraw", args=[app_id, pk])),
        ("post", reverse("portal:listing_image_add", args=[app_id, pk, "screenshot"])),
        ("post", reverse("portal:listing_image", args=[app_id, pk, image.pk])),
        ("get", reverse("portal:listing_changes", args=[app_id, pk])),
    ]


def test_every_portal_url_of_another_partners_app_is_404(client, a_listing, other_partner_member):
    client.force_login(other_partner_member.user)
    for method, url in portal_urls(a_listing):
        response = getattr(client, method)(url, {"action": "delete", "header": "x"})
        assert response.status_code == 404, (method, url)
    a_listing.refresh_from_db()
    assert a_listing.state == VersionState.DRAFT and a_listing.images.count() == 3


def test_listing_of_another_app_is_404_even_with_own_app_id(client, a_listing, other_partner_member):
    own_app = AppFactory(partner=other_partner_member.partner)
    client.force_login(other_partner_member.user)
    assert client.get(reverse("portal:listing", args=[own_app.pk, a_listing.pk])).status_code == 404


def test_dashboard_never_lists_another_partners_apps(client, a_listing, other_partner_member):
    AppFactory(partner=other_partner_member.partner, name="B's Own App")
    client.force_login(other_partner_member.user)
    html = client.get("/portal/").content.decode()
    assert "B&#x27;s Own App" in html
    assert "Secret App of A" not in html


def test_audit_log_shows_only_own_entries(client, partner_member, other_partner_member):
    client.force_login(partner_member.user)
    client.post("/portal/apps/new/", {"template": "empty", "is_custom": "standard", "name": "Audited A"})
    client = Client()
    client.force_login(other_partner_member.user)
    html = client.get("/portal/audit/").content.decode()
    assert "Audited A" not in html
    other_app = App.objects.get(name="Audited A")
    response = client.get("/portal/audit/", {"app": other_app.pk})
    assert "app" in response.context["form"].errors  # not a choice for partner B
    assert "Audited A" not in response.content.decode()


def test_switching_partner_changes_what_the_portal_shows(client, partner_member):
    second = PartnerMemberFactory(user=partner_member.user)
    AppFactory(partner=partner_member.partner, name="First Co App")
    AppFactory(partner=second.partner, name="Second Co App")
    client.force_login(partner_member.user)

    home = client.get("/portal/").content.decode()
    assert 'action="/portal/switch/"' in home
    first_name = "First Co App" if partner_member.partner.name < second.partner.name else "Second Co App"
    assert first_name in home

    response = client.post(reverse("portal:switch_partner"), {"partner": second.partner_id})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == second.partner_id
    html = client.get("/portal/").content.decode()
    assert "Second Co App" in html and "First Co App" not in html


def test_switching_to_a_partner_one_is_not_in_is_refused(client, partner_member, other_partner_member):
    client.force_login(partner_member.user)
    response = client.post(reverse("portal:switch_partner"), {"partner": other_partner_member.partner_id})
    assert response.status_code == 404
    assert client.session.get(SESSION_KEY) != other_partner_member.partner_id
    assert client.get(reverse("portal:switch_partner")).status_code == 405


@pytest.fixture
def reader(partner_member):
    """A colleague who may read but not touch the App Store."""
    return PartnerMemberFactory(partner=partner_member.partner, can_app_store=False,
                                can_configuration=False, can_users=False)


def test_member_without_app_store_can_read_but_not_edit(client, reader, a_listing):
    client.force_login(reader.user)
    app_id, pk = a_listing.app_id, a_listing.pk

    page = client.get(reverse("portal:listing", args=[app_id, pk]))
    assert page.status_code == 200
    assert all(f.disabled for f in page.context["form"].fields.values())
    assert "editing it needs the App Store permission" in page.content.decode()
    assert client.get(reverse("portal:app", args=[app_id])).status_code == 200

    forbidden = [
        ("get", reverse("portal:app_create")),
        ("post", reverse("portal:app_create")),
        ("get", reverse("portal:app_settings", args=[app_id])),
        ("post", reverse("portal:listing_new", args=[app_id])),
        ("post", reverse("portal:listing", args=[app_id, pk])),
        ("post", reverse("portal:listing_request", args=[app_id, pk])),
        ("post", reverse("portal:listing_image_add", args=[app_id, pk, "screenshot"])),
        ("post", reverse("portal:listing_image", args=[app_id, pk, a_listing.images.first().pk])),
    ]
    for method, url in forbidden:
        response = getattr(client, method)(url, {"header": "x", "action": "delete"})
        assert response.status_code == 403, (method, url)
        assert "App Store" in response.content.decode() or "app store" in response.content.decode()
    a_listing.refresh_from_db()
    assert a_listing.state == VersionState.DRAFT and a_listing.images.count() == 3


def test_upload_by_reader_stores_nothing(client, reader, a_listing):
    client.force_login(reader.user)
    url = reverse("portal:listing_image_add", args=[a_listing.app_id, a_listing.pk, "screenshot"])
    response = client.post(url, {"screenshot-image": png_upload(1920, 1080), "screenshot-alt_text": "x"})
    assert response.status_code == 403
    assert a_listing.images.count() == 3


def test_member_without_read_gets_403(client, partner_member):
    blind = PartnerMemberFactory(partner=partner_member.partner, can_read=False, can_app_store=False)
    client.force_login(blind.user)
    assert client.get("/portal/").status_code == 403
    assert client.get("/portal/audit/").status_code == 403
    assert 'class="empty-state"' in client.get("/portal/audit/").content.decode()  # the 403 page


def test_anonymous_visitors_are_sent_to_sign_in(client, a_listing):
    listing_url = reverse("portal:listing", args=[a_listing.app_id, a_listing.pk])
    for url in ("/portal/", "/portal/apps/new/", listing_url):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

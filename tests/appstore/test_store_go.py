"""/apps/<partner>/<app>/go/<kind>: a 302 to the approved URL, and a recorded click."""

import pytest
from django.urls import reverse

from appstore.models import LinkClick, LinkKind, ListingLink
from tests.factories import AppFactory, PartnerFactory, published_listing

pytestmark = pytest.mark.django_db
STORED = "https://partner.example.com/install"


@pytest.fixture
def listing():
    return published_listing(app=AppFactory(partner=PartnerFactory(seo_name="acme"), seo_name="sync"))


def test_go_redirects_to_the_stored_url_and_records_the_click(client, listing):
    response = client.get("/apps/acme/sync/go/install")
    assert response.status_code == 302
    assert response["Location"] == STORED
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    click = LinkClick.objects.get()
    assert (click.app_id, click.listing_id, click.kind) == (listing.app_id, listing.pk, "install")


@pytest.mark.parametrize("query", [
    "?next=https://evil.example/",
    "?url=https://evil.example/",
    "?next=//evil.example",
    "?url=%2F%2Fevil.example",
    "?next=%2F%2Fevil.example%2Fphish",
    "?redirect=https%3A%2F%2Fevil.example&to=//evil.example&target=http://evil.example",
    "?next=/apps/&url=javascript:alert(1)",
])
def test_go_never_takes_the_target_from_the_request(client, listing, query):
    response = client.get("/apps/acme/sync/go/install" + query)
    assert response.status_code == 302
    assert response["Location"] == STORED
    assert LinkClick.objects.count() == 1


@pytest.mark.parametrize("path", [
    "/apps/acme/sync/go//evil.example",
    "/apps/acme/sync/go/%2F%2Fevil.example",
    "/apps/acme/sync/go/install/evil.example",
    "/apps/acme/sync/go/install/%2F%2Fevil.example",
])
def test_a_target_in_the_path_is_404(client, listing, path):
    assert client.get(path).status_code == 404
    assert LinkClick.objects.count() == 0


def test_a_protocol_relative_request_path_still_goes_to_the_stored_url(client, listing):
    response = client.get("//evil.example/apps/acme/sync/go/install")
    assert response.status_code == 302
    assert response["Location"] == STORED


def test_each_link_kind_goes_to_its_own_url(client, listing):
    ListingLink.objects.create(listing=listing, kind=LinkKind.SUPPORT,
                               url="https://partner.example.com/help", label="Help")
    response = client.get("/apps/acme/sync/go/support")
    assert response["Location"] == "https://partner.example.com/help"
    assert LinkClick.objects.get().kind == "support"


@pytest.mark.parametrize("kind", ["uninstall", "configure", "report-problem", "terms", "evil"])
def test_missing_or_unknown_kind_is_404_and_not_recorded(client, listing, kind):
    response = client.get(f"/apps/acme/sync/go/{kind}")
    assert response.status_code == 404
    assert LinkClick.objects.count() == 0


def test_go_for_an_unknown_app_or_partner_is_404(client, listing):
    assert client.get("/apps/acme/nope/go/install").status_code == 404
    assert client.get("/apps/nope/sync/go/install").status_code == 404
    other = PartnerFactory(seo_name="other")
    assert client.get(f"/apps/{other.seo_name}/sync/go/install").status_code == 404
    assert LinkClick.objects.count() == 0


def test_head_redirects_without_counting_and_post_is_refused(client, listing):
    assert client.head("/apps/acme/sync/go/install")["Location"] == STORED
    assert client.post("/apps/acme/sync/go/install").status_code == 405
    assert LinkClick.objects.count() == 0


def test_links_to_go_are_nofollow(client, listing):
    ListingLink.objects.create(listing=listing, kind=LinkKind.UNINSTALL,
                               url="https://partner.example.com/bye", label="Uninstall")
    body = client.get(reverse("store:app", args=["acme", "sync"])).content.decode()
    assert body.count("/go/") == 2
    assert 'href="/apps/acme/sync/go/install" rel="nofollow"' in body
    assert 'href="/apps/acme/sync/go/uninstall" rel="nofollow"' in body

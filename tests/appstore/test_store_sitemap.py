"""/sitemap.xml lists the store's public pages with absolute URLs from SITE_URL."""

import re

import pytest
from django.utils import timezone

from appstore.models import VersionState
from tests.factories import AppFactory, ListingFactory, PartnerFactory, environment, published_listing

pytestmark = pytest.mark.django_db


def locations(response) -> list[str]:
    return re.findall(r"<loc>([^<]+)</loc>", response.content.decode())


def test_sitemap_lists_home_search_partners_and_live_apps(client, settings):
    settings.SITE_URL = "https://store.example.com"
    acme = PartnerFactory(seo_name="acme")
    live = published_listing(app=AppFactory(partner=acme, seo_name="sync"))
    ListingFactory(app=AppFactory(partner=acme, seo_name="draft-app"))
    ListingFactory(app=AppFactory(partner=acme, seo_name="pending-app"), state=VersionState.PENDING)
    ListingFactory(app=AppFactory(partner=acme, seo_name="rejected-app"), state=VersionState.REJECTED)
    old = published_listing(app=AppFactory(partner=acme, seo_name="superseded-app"))
    old.superseded_at = timezone.now()
    old.save()
    published_listing(app=AppFactory(partner=PartnerFactory(seo_name="stage-only"), seo_name="x"),
                      environment=environment("stage"))
    ListingFactory(app=AppFactory(partner=PartnerFactory(seo_name="drafts-only")))

    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert locations(response) == [
        "https://store.example.com/",
        "https://store.example.com/apps/",
        "https://store.example.com/apps/acme/",
        "https://store.example.com/apps/acme/sync/",
    ]
    body = response.content.decode()
    assert f"<lastmod>{live.published_at:%Y-%m-%d}</lastmod>" in body


def test_sitemap_uses_site_url_not_the_request_host(client, settings):
    settings.SITE_URL = "http://apps.example.org:8080"
    settings.ALLOWED_HOSTS = ["testserver", "attacker.example"]
    published_listing(app=AppFactory(partner=PartnerFactory(seo_name="acme"), seo_name="sync"))
    response = client.get("/sitemap.xml", HTTP_HOST="attacker.example")
    assert locations(response)[-1] == "http://apps.example.org:8080/apps/acme/sync/"
    assert "attacker.example" not in response.content.decode()

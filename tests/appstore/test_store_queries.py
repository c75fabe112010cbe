"""Store pages run a fixed number of queries however many apps are live."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appstore.models import Category, Language, ListingImage, Market
from tests.factories import AppFactory, PartnerFactory, published_listing

pytestmark = pytest.mark.django_db
CATEGORIES = ["erp", "cti", "quotations", "productivity", "digital-signature"]
SEARCH_WITH_FILTERS = (reverse("store:search") + "?q=sync+crm&category=erp&category=cti&language=sv"
                       "&market=sweden&price=free&beta=exclude&sort=relevance")


def build(partner, start: int, count: int) -> None:
    """Live apps of one partner spread over categories, some featured, all with images."""
    for i in range(start, start + count):
        listing = published_listing(app=AppFactory(partner=partner, install_count=i),
                                    category=CATEGORIES[i % len(CATEGORIES)],
                                    is_featured=i % 3 == 0, is_free=i % 2 == 0)
        listing.languages.add(Language.objects.get(code="sv"))
        listing.markets.add(Market.objects.get(slug="sweden"))
        listing.categories.add(Category.objects.get(slug="erp"))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def listed(response) -> int:
    """How many app tiles the page's main list shows."""
    context = response.context
    if "page" in context:
        return len(context["page"].object_list)
    if "listings" in context:
        return len(context["listings"])
    if "newest" in context:
        return len(context["newest"])
    return len(context["more_from_partner"])


def test_same_number_of_queries_with_5_and_50_apps(client, django_assert_num_queries):
    partner = PartnerFactory()
    target = published_listing(app=AppFactory(partner=partner, name="Target App"), is_free=True)
    shot = target.images.get(kind="screenshot")
    for position in (1, 2):  # several screenshots: still one query for them
        ListingImage.objects.create(listing=target, kind="screenshot", image=shot.image.name,
                                    width=1920, height=1080, alt_text=f"Shot {position}",
                                    position=position)
    build(partner, 0, 4)
    pages = {
        "home": reverse("store:home"),
        "search": reverse("store:search"),
        "search with text and filters": SEARCH_WITH_FILTERS,
        "search by installs": reverse("store:search") + "?sort=installs",
        "partner": reverse("store:partner", args=[partner.seo_name]),
        "app": reverse("store:app", args=[partner.seo_name, target.app.seo_name]),
    }
    with_5 = {name: count_queries(client, url) for name, url in pages.items()}
    assert all(count <= 12 for count in with_5.values()), with_5

    build(partner, 4, 45)
    for name, url in pages.items():
        with django_assert_num_queries(with_5[name]):
            response = client.get(url)
        assert listed(response) >= (4 if name == "app" else 8), name

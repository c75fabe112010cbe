"""Store search: full text, every filter and sort, pagination, and the PostgreSQL index."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appstore.models import App, Category, Language, ListingVersion, Market, VersionState
from appstore.selectors import store as store_selectors
from tests.factories import AppFactory, PartnerFactory, environment, published_listing

pytestmark = pytest.mark.django_db
SEARCH = reverse("store:search")


def names(response) -> list[str]:
    return [listing.app.name for listing in response.context["page"].object_list]


@pytest.fixture
def catalogue():
    """Four live apps that differ in every filterable way."""
    aurora = published_listing(
        app=AppFactory(name="Aurora Sync", partner=PartnerFactory(name="Borealis Software"),
                       install_count=50),
        category="erp", header="Orders and invoices both ways", keywords="ledger, accounting",
        is_free=False, lowest_price_eur="10.00", price_model="per_user_month")
    beacon = published_listing(
        app=AppFactory(name="Beacon Dialer", is_beta=True, install_count=500),
        category="cti", header="Click to call from any contact", keywords="telephony",
        is_free=True, lowest_price_eur=None, price_model="free")
    beacon.languages.set(Language.objects.filter(code="sv"))
    beacon.markets.set(Market.objects.filter(slug="sweden"))
    cobalt = published_listing(
        app=AppFactory(name="Cobalt Quotes", install_count=5),
        category="quotations", header="Quotes with your price lists", keywords="offers",
        key_features=["Zircon templates", "PDF export"], is_free=True, lowest_price_eur=None,
        price_model="free")
    cobalt.categories.add(Category.objects.get(slug="erp"))
    delta = published_listing(
        app=AppFactory(name="Delta Reports", install_count=0),
        category="business-intelligence-reporting", header="Dashboards for sales",
        about="<p>Charts of your <b>pipeline</b>.</p>", keywords="analytics")
    delta.languages.set(Language.objects.filter(code__in=["de", "en"]))
    delta.markets.set(Market.objects.filter(slug="germany"))
    return {"aurora": aurora, "beacon": beacon, "cobalt": cobalt, "delta": delta}


@pytest.mark.parametrize("q, expected", [
    ("Aurora", ["Aurora Sync"]),                    # app name
    ("click to call", ["Beacon Dialer"]),           # header
    ("Borealis", ["Aurora Sync"]),                  # partner name
    ("telephony", ["Beacon Dialer"]),               # keyword
    ("zircon", ["Cobalt Quotes"]),                  # key feature
    ("pipeline", ["Delta Reports"]),                # about (plain text of the HTML)
    ("DASHBOARDS", ["Delta Reports"]),              # case-insensitive
    ("quotes -cobalt", []),                         # an excluded word removes the hit
    ("nothing-like-this", []),
])
def test_search_finds_by_every_searchable_field(client, catalogue, q, expected):
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == 200
    assert sorted(names(response)) == expected
    assert response.context["result_count"] == len(expected)


def test_search_matches_word_prefixes(client, catalogue):
    assert names(client.get(SEARCH, {"q": "auro"})) == ["Aurora Sync"]
    assert names(client.get(SEARCH, {"q": "dash sal"})) == ["Delta Reports"]


def test_punctuation_only_query_matches_nothing_and_does_not_fail(client, catalogue):
    for q in ("&&&", "!:*", "'|("):
        response = client.get(SEARCH, {"q": q})
        assert response.status_code == 200, q
        assert names(response) == []


def test_empty_state_and_result_count(client, catalogue):
    body = client.get(SEARCH, {"q": "nothing-like-this"}).content.decode()
    assert "0 apps" in body
    assert "No apps match “nothing-like-this”" in body
    body = client.get(SEARCH).content.decode()
    assert ">4 apps<" in body


@pytest.mark.parametrize("params, expected", [
    ({"category": "erp"}, ["Aurora Sync", "Cobalt Quotes"]),
    ({"category": ["cti", "business-intelligence-reporting"]}, ["Beacon Dialer", "Delta Reports"]),
    ({"category": "digital-signature"}, []),
    ({"language": "sv"}, ["Beacon Dialer"]),
    ({"language": "de"}, ["Delta Reports"]),
    ({"market": "sweden"}, ["Beacon Dialer"]),
    ({"market": "germany"}, ["Delta Reports"]),
    ({"price": "free"}, ["Beacon Dialer", "Cobalt Quotes"]),
    ({"price": "paid"}, ["Aurora Sync", "Delta Reports"]),
    ({"beta": "only"}, ["Beacon Dialer"]),
    ({"beta": "exclude"}, ["Aurora Sync", "Cobalt Quotes", "Delta Reports"]),
    # Combined filters narrow each other.
    ({"category": "erp", "price": "free"}, ["Cobalt Quotes"]),
    ({"price": "free", "beta": "exclude"}, ["Cobalt Quotes"]),
    ({"q": "quotes", "category": "erp", "price": "paid"}, []),
    ({"q": "orders", "category": "erp"}, ["Aurora Sync"]),
])
def test_filters(client, catalogue, params, expected):
    response = client.get(SEARCH, params)
    assert sorted(names(response)) == expected


def test_unknown_filter_values_are_ignored(client, catalogue):
    response = client.get(SEARCH, {"category": "no-such", "language": "xx", "market": "mars",
                                   "price": "cheap", "beta": "maybe", "sort": "random"})
    assert len(names(response)) == 4
    assert response.context["active_filters"] == []


def test_active_filters_link_to_the_search_without_them(client, catalogue):
    response = client.get(SEARCH, {"q": "sync", "category": ["erp", "cti"], "price": "paid"})
    chips = {chip["label"]: chip["remove_url"] for chip in response.context["active_filters"]}
    assert chips == {
        "“sync”": "/apps/?category=erp&category=cti&price=paid",
        "ERP": "/apps/?q=sync&category=cti&price=paid",
        "CTI": "/apps/?q=sync&category=erp&price=paid",
        "Paid": "/apps/?q=sync&category=erp&category=cti",
    }
    body = response.content.decode()
    assert 'href="/apps/?q=sync&amp;category=cti&amp;price=paid"' in body
    # The sidebar form keeps what was chosen.
    assert 'value="erp" checked' in body and 'value="cti" checked' in body
    assert 'name="price" value="paid" checked' in body
    assert 'value="sync"' in body


def test_sorts(client, catalogue):
    by_name = ["Aurora Sync", "Beacon Dialer", "Cobalt Quotes", "Delta Reports"]
    assert names(client.get(SEARCH, {"sort": "name"})) == by_name
    assert names(client.get(SEARCH, {"sort": "installs"})) == [
        "Beacon Dialer", "Aurora Sync", "Cobalt Quotes", "Delta Reports"]
    newest = list(reversed(by_name))  # the fixture published them in name order
    assert names(client.get(SEARCH, {"sort": "newest"})) == newest
    assert names(client.get(SEARCH)) == newest  # newest is the default without a query


def test_relevance_is_the_default_with_a_query(client):
    # "orbit" is a keyword of the newer app and the name of the older one.
    named = published_listing(app=AppFactory(name="Orbit Planner"), keywords="planning")
    published_listing(app=AppFactory(name="Star Chart"), keywords="orbit")
    ListingVersion.objects.filter(pk=named.pk).update(published_at=timezone.now()
                                                      - timezone.timedelta(days=3))
    assert names(client.get(SEARCH, {"q": "orbit", "sort": "newest"})) == ["Star Chart",
                                                                          "Orbit Planner"]
    # The name hit (name and header: twice in the text) outranks a single keyword hit.
    assert names(client.get(SEARCH, {"q": "orbit"})) == ["Orbit Planner", "Star Chart"]
    assert names(client.get(SEARCH, {"q": "orbit", "sort": "relevance"})) == ["Orbit Planner",
                                                                             "Star Chart"]


def test_pagination_keeps_the_filters(client):
    partner = PartnerFactory()
    env = environment()
    apps = App.objects.bulk_create(
        App(partner=partner, name=f"Paged {i:02}", name_key=f"paged {i:02}", seo_name=f"paged-{i:02}",
            template="web")
        for i in range(30))
    ListingVersion.objects.bulk_create(
        ListingVersion(app=app, environment=env, label="1", state=VersionState.PUBLISHED,
                       published_at=timezone.now(), is_free=True, search_text=f"{app.name} paged")
        for app in apps)
    first = client.get(SEARCH, {"q": "paged", "price": "free", "sort": "name"})
    assert first.context["result_count"] == 30
    assert names(first) == [f"Paged {i:02}" for i in range(24)]
    assert first.context["next_url"] == "/apps/?q=paged&price=free&sort=name&page=2"
    body = first.content.decode()
    assert 'href="/apps/?q=paged&amp;price=free&amp;sort=name&amp;page=2"' in body
    assert '<span class="current" aria-current="page">1</span>' in body
    second = client.get(first.context["next_url"])
    assert names(second) == [f"Paged {i:02}" for i in range(24, 30)]
    assert second.context["previous_url"] == "/apps/?q=paged&price=free&sort=name"
    assert second.context["next_url"] == ""
    # A page past the end is not found.
    assert client.get(SEARCH, {"q": "paged", "price": "free", "sort": "name",
                               "page": "99"}).status_code == 404
    # One page of results: no page links at all.
    assert 'class="pagination"' not in client.get(SEARCH, {"q": "paged 07"}).content.decode()


def test_filter_sidebar_works_without_scripts_and_folds_on_phones(client, catalogue):
    body = client.get(SEARCH).content.decode()
    assert '<form class="with-sidebar store-search" method="get" action="/apps/">' in body
    assert '<details class="card filter-panel" id="filter-panel" open>' in body
    assert "csrfmiddlewaretoken" not in body.split('class="with-sidebar store-search"')[1]
    for name in ('name="category"', 'name="language"', 'name="market"', 'name="price"',
                 'name="beta"', 'name="sort"', 'name="q"'):
        assert name in body
    assert '<button type="submit" class="button">Apply filters</button>' in body


@pytest.mark.postgres
def test_full_text_search_uses_the_gin_index(client):
    """Search matches on the stored, trigger-kept tsvector and its GIN index (migration 0004)."""
    target = published_listing(app=AppFactory(name="Quokka Ledger"), header="Bridges orders")
    partner = PartnerFactory()
    env = environment()
    fillers = App.objects.bulk_create(
        App(partner=partner, name=f"Filler {i}", name_key=f"filler {i}", seo_name=f"filler-{i}",
            template="web")
        for i in range(300))
    ListingVersion.objects.bulk_create(
        ListingVersion(app=app, environment=env, label="1", state=VersionState.PUBLISHED,
                       published_at=timezone.now(), search_text=f"{app.name} generic words")
        for app in fillers)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appstore_listingversion, appstore_app, appstore_partner")
        cursor.execute("SET LOCAL enable_seqscan = off")
    # The bare text condition can only be served by the GIN index.
    include, exclude = store_selectors.search_terms("quokka")
    bare = ListingVersion.objects.filter(
        search_vector=store_selectors.search_query("quokka", include, exclude))
    assert "Bitmap Index Scan on listing_search_gin" in bare.explain()
    # The store's whole query uses that same condition (which index the planner then
    # prefers among several depends on statistics, so only the results are asserted).
    for q in ("quokka", "quok ledg", '"quokka ledger" -filler', "bridges or nothing"):
        queryset = store_selectors.search_listings(store_selectors.StoreFilters(q=q))
        assert list(queryset) == [target], q
        assert "search_vector @@" in queryset.explain()
    assert names(client.get(SEARCH, {"q": "quok"})) == ["Quokka Ledger"]


@pytest.mark.postgres
def test_search_vector_follows_the_text_on_every_save():
    listing = published_listing(app=AppFactory(name="Walrus Planner"))
    listing.refresh_from_db()
    assert "'walrus'" in listing.search_vector
    listing.search_text = "Narwhal Planner"
    listing.save()
    listing.refresh_from_db()
    assert "'narwhal'" in listing.search_vector and "walrus" not in listing.search_vector


@pytest.mark.parametrize("page", ["0", "99", "abc", "-1"])
def test_a_page_past_the_results_is_a_404(client, page):
    published_listing(app=AppFactory(name="Lonely Lynx"))
    assert client.get(SEARCH, {"page": page}).status_code == 404
    assert client.get(SEARCH, {"page": "1"}).status_code == 200

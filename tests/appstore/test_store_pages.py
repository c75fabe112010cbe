"""The public store: what home, partner and app pages show, and what they never show."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appstore.models import (
    Category,
    Language,
    LinkKind,
    ListingLink,
    ListingVersion,
    ListingVideo,
    Market,
    VersionState,
)
from appstore.services.listings import build_search_text
from tests.factories import (
    AppFactory,
    ListingFactory,
    PartnerFactory,
    complete_listing,
    environment,
    published_listing,
)

pytestmark = pytest.mark.django_db


def app_url(listing: ListingVersion) -> str:
    return reverse("store:app", args=[listing.app.partner.seo_name, listing.app.seo_name])


def partner_url(partner) -> str:
    return reverse("store:partner", args=[partner.seo_name])


def unpublished(state: str, *, app=None, category: str = "erp", **kwargs) -> ListingVersion:
    """A complete listing in a state the store must never show, searchable like a live one."""
    listing = complete_listing(ListingFactory(app=app or AppFactory(), state=state, **kwargs),
                               category=category)
    listing.search_text = build_search_text(listing)
    listing.save()
    return listing


@pytest.fixture
def hidden_versions():
    """One app per invisible state, all under one partner that also has a live app."""
    partner = PartnerFactory(name="Mixed Partner", seo_name="mixed-partner")
    live = published_listing(app=AppFactory(partner=partner, name="Visible Vole"),
                             header="Visible vole header")
    hidden = {
        state: unpublished(state, app=AppFactory(partner=partner, name=f"Hidden {state.title()}",
                                                 seo_name=f"hidden-{state}"),
                           header=f"Secret {state} header")
        for state in (VersionState.DRAFT, VersionState.PENDING, VersionState.REJECTED)
    }
    # Superseded: the app's only published version was replaced and nothing is live.
    superseded = published_listing(app=AppFactory(partner=partner, name="Hidden Superseded",
                                                  seo_name="hidden-superseded"),
                                   header="Secret superseded header")
    superseded.superseded_at = timezone.now()
    superseded.save()
    hidden["superseded"] = superseded
    # Published, but to another environment than the store's.
    hidden["stage"] = published_listing(
        app=AppFactory(partner=partner, name="Hidden Stage", seo_name="hidden-stage"),
        environment=environment("stage"), header="Secret stage header")
    return live, hidden


# ---------------------------------------------------------------- visibility

def test_hidden_versions_never_appear_anywhere(client, hidden_versions):
    live, hidden = hidden_versions
    pages = {
        "home": client.get(reverse("store:home")),
        "search": client.get(reverse("store:search")),
        "search for secret": client.get(reverse("store:search"), {"q": "secret"}),
        "search for hidden": client.get(reverse("store:search"), {"q": "hidden"}),
        "partner": client.get(partner_url(live.app.partner)),
        "sitemap": client.get("/sitemap.xml"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.content.decode()
        for state, listing in hidden.items():
            assert listing.app.name not in body, f"{state} app on {name}"
            assert listing.header not in body, f"{state} listing on {name}"
            assert f"/{listing.app.seo_name}/" not in body, f"{state} link on {name}"
    for name in ("home", "search", "partner", "sitemap"):
        assert app_url(live) in pages[name].content.decode(), name
    assert "Visible vole header" in pages["home"].content.decode()
    assert "0 apps" in pages["search for secret"].content.decode()


def test_hidden_versions_have_no_app_page(client, hidden_versions):
    _, hidden = hidden_versions
    for state, listing in hidden.items():
        response = client.get(app_url(listing))
        assert response.status_code == 404, state
        response = client.get(reverse("store:go", args=[listing.app.partner.seo_name,
                                                        listing.app.seo_name, "install"]))
        assert response.status_code == 404, state


def test_superseded_version_is_replaced_by_the_live_one(client):
    old = published_listing(header="Old header text", is_featured=True)
    old.superseded_at = timezone.now()
    old.save()
    new = published_listing(app=old.app, header="New header text", label="1.1")
    ListingLink.objects.filter(listing=new, kind=LinkKind.INSTALL).update(
        url="https://partner.example.com/new-install")
    for url in (reverse("store:home"), reverse("store:search"), app_url(new),
                partner_url(new.app.partner)):
        body = client.get(url).content.decode()
        assert "New header text" in body, url
        assert "Old header text" not in body, url
    # Featuring belongs to the app: the new live version stays featured.
    home = client.get(reverse("store:home")).content.decode()
    assert "Featured apps" in home and "New header text" in home.split("Featured apps")[1]
    response = client.get(reverse("store:go", args=[new.app.partner.seo_name, new.app.seo_name,
                                                    "install"]))
    assert response["Location"] == "https://partner.example.com/new-install"


def test_hidden_from_our_apps_does_not_hide_from_the_store(client):
    listing = published_listing(app=AppFactory(hidden_from_our_apps=True, name="Quiet Quail"))
    assert "Quiet Quail" in client.get(reverse("store:search")).content.decode()
    assert client.get(app_url(listing)).status_code == 200


# ---------------------------------------------------------------- home

def test_home_shows_featured_newest_and_all_categories_with_counts(client):
    featured = published_listing(app=AppFactory(name="Famous Falcon"), is_featured=True)
    published_listing(app=AppFactory(name="Plain Pigeon"), category="cti")
    published_listing(app=AppFactory(name="Second Sparrow"), category="cti")
    unpublished(VersionState.DRAFT, category="cti")  # not counted
    response = client.get(reverse("store:home"))
    body = response.content.decode()
    assert response.status_code == 200
    featured_section = body.split('id="featured-heading"')[1].split("</section>")[0]
    assert "Famous Falcon" in featured_section
    assert "Plain Pigeon" not in featured_section
    newest_section = body.split('id="newest-heading"')[1].split("</section>")[0]
    assert newest_section.index("Second Sparrow") < newest_section.index("Plain Pigeon") \
        < newest_section.index("Famous Falcon")
    counts = {c.slug: c.live_count for c in response.context["categories"]}
    assert len(counts) == Category.objects.count() == 10
    assert counts["cti"] == 2
    assert counts["erp"] == 1
    assert counts["quotations"] == 0
    assert 'href="/apps/?category=cti"' in body
    assert '<input type="search" id="hero-q" name="q"' in body
    assert featured.header in body


def test_home_without_apps_says_so(client):
    body = client.get(reverse("store:home")).content.decode()
    assert "No apps are published yet" in body
    assert "Featured apps" not in body


# ---------------------------------------------------------------- partner page

def test_partner_page_lists_live_apps_and_website(client):
    partner = PartnerFactory(name="Acme Partners", website="https://acme.example.com/")
    first = published_listing(app=AppFactory(partner=partner, name="Alpha Ant"))
    second = published_listing(app=AppFactory(partner=partner, name="Beta Bee"))
    other = published_listing(app=AppFactory(name="Other Otter"))
    response = client.get(partner_url(partner))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Acme Partners</h1>" in body
    assert 'href="https://acme.example.com/"' in body
    assert app_url(first) in body and app_url(second) in body
    assert "Other Otter" not in body and app_url(other) not in body
    assert "2 apps by Acme Partners" in body


def test_unknown_partner_or_partner_without_live_apps_is_404(client):
    assert client.get("/apps/no-such-partner/").status_code == 404
    partner = PartnerFactory()
    unpublished(VersionState.PENDING, app=AppFactory(partner=partner))
    response = client.get(partner_url(partner))
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


# ---------------------------------------------------------------- app page

@pytest.fixture
def rich_listing():
    partner = PartnerFactory(name="Northwind", seo_name="northwind")
    app = AppFactory(partner=partner, name="Northwind Ledger", seo_name="ledger",
                     is_beta=True, install_count=1234)
    listing = published_listing(
        app=app, header="Your ledger inside the CRM",
        about="<p>Keeps <b>orders</b> in step.</p><ul><li>Fast</li></ul>",
        key_features=["Two-way order sync", "Invoices on the company card"],
        whats_new="Faster sync of large price lists.",
        lowest_price_eur="19.50", price_model="per_site_month", startup_cost="€ 500 once",
        consultancy="€ 120 per hour", terms_url="https://northwind.example.com/terms",
        supported_plans="Standard and Premium", install_steps=["Open the store", "Click Install"],
        requirements="An ERP account.", meta_description="Northwind Ledger brings orders and "
        "invoices from your ERP into the CRM company card.",
    )
    listing.categories.set(Category.objects.filter(slug__in=["erp", "quotations"]))
    listing.languages.set(Language.objects.filter(code__in=["en", "no"]))
    listing.markets.set(Market.objects.filter(slug__in=["norway", "sweden"]))
    ListingLink.objects.filter(listing=listing, kind=LinkKind.INSTALL).update(label="Start free trial")
    for kind, url, label in (("support", "https://northwind.example.com/support", "Get support"),
                             ("configure", "https://northwind.example.com/setup", "Configure it"),
                             ("report-problem", "https://northwind.example.com/bug", "Report it")):
        ListingLink.objects.create(listing=listing, kind=kind, url=url, label=label)
    ListingVideo.objects.create(listing=listing, youtube_id="dQw4w9WgXcQ", description="A tour")
    second = listing.images.get(kind="screenshot")
    second.pk = None
    second.alt_text = "The second screen"
    second.position = 1
    second.save()
    return listing


def test_app_page_shows_the_whole_listing(client, rich_listing):
    response = client.get("/apps/northwind/ledger/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Northwind Ledger" in body and 'class="tag tag-beta">Beta' in body
    assert 'href="/apps/northwind/"' in body
    assert "Your ledger inside the CRM" in body
    assert "<p>Keeps <b>orders</b> in step.</p><ul><li>Fast</li></ul>" in body  # rendered as HTML
    assert "<li>Two-way order sync</li>" in body
    assert "Faster sync of large price lists." in body
    assert "ERP" in body and "Quotations" in body
    assert "English" in body and "Norwegian" in body and "Sweden" in body
    assert "From €19.50" in body and "Per site per month" in body
    assert "€ 500 once" in body and "€ 120 per hour" in body
    assert 'href="https://northwind.example.com/terms"' in body
    assert "Standard and Premium" in body
    assert re.search(r"<ol class=\"install-steps\"><li>Open the store</li><li>Click Install</li></ol>", body)
    assert "An ERP account." in body
    assert "1234" in body
    detail = rich_listing.images.get(kind="detail_icon")
    assert f'src="{detail.image.url}" alt="{detail.alt_text}"' in body
    # Screenshots in order, with alt text.
    assert body.index(f'alt="screenshot of {rich_listing.app}"') < body.index('alt="The second screen"')
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="A tour"' in body
    # The green button and every other link go through /go/, never straight to the partner.
    assert '<a class="button button-green" href="/apps/northwind/ledger/go/install" rel="nofollow">' \
           "Start free trial</a>" in body
    for kind, label in (("configure", "Configure it"), ("support", "Get support"),
                        ("report-problem", "Report it")):
        assert f'<a href="/apps/northwind/ledger/go/{kind}" rel="nofollow">{label}</a>' in body
    assert "northwind.example.com/support" not in body
    assert "partner.example.com/install" not in body
    assert "/go/uninstall" not in body  # the listing has no uninstall link


def test_free_app_shows_free_and_no_price(client):
    listing = published_listing(is_free=True, lowest_price_eur=None, price_model="free")
    body = client.get(app_url(listing)).content.decode()
    assert '<p class="price">Free</p>' in body
    assert "€" not in body
    assert "Per user per month" not in body


def test_green_button_only_with_an_install_link(client):
    listing = published_listing()
    assert "button-green" in client.get(app_url(listing)).content.decode()
    listing.links.filter(kind=LinkKind.INSTALL).delete()
    ListingLink.objects.create(listing=listing, kind=LinkKind.SUPPORT, url="https://x.example.com/s",
                               label="Support")
    body = client.get(app_url(listing)).content.decode()
    assert "button-green" not in body
    assert "/go/install" not in body
    assert "/go/support" in body


def test_unknown_app_is_404_in_the_site_look(client):
    listing = published_listing()
    for url in (f"/apps/{listing.app.partner.seo_name}/nope/",
                f"/apps/nope/{listing.app.seo_name}/",
                f"/apps/{PartnerFactory().seo_name}/{listing.app.seo_name}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "We could not find that page" in response.content.decode()
        assert 'class="site-header"' in response.content.decode()


# ---------------------------------------------------------------- SEO

def test_app_page_seo_tags(client, settings, rich_listing):
    settings.SITE_URL = "https://store.example.com"
    body = client.get("/apps/northwind/ledger/").content.decode()
    canonical = "https://store.example.com/apps/northwind/ledger/"
    assert f'<link rel="canonical" href="{canonical}">' in body
    description = rich_listing.meta_description
    assert f'<meta name="description" content="{description}">' in body
    assert '<meta property="og:title" content="Northwind Ledger by Northwind">' in body
    assert f'<meta property="og:description" content="{description}">' in body
    assert f'<meta property="og:url" content="{canonical}">' in body
    assert '<meta property="og:type" content="website">' in body
    detail = rich_listing.images.get(kind="detail_icon")
    assert f'<meta property="og:image" content="https://store.example.com{detail.image.url}">' in body


def test_canonical_on_home_search_and_partner(client, settings):
    settings.SITE_URL = "https://store.example.com"
    listing = published_listing()
    checks = {
        "/": "https://store.example.com/",
        "/apps/": "https://store.example.com/apps/",
        "/apps/?q=sync&category=erp": "https://store.example.com/apps/",
        partner_url(listing.app.partner): f"https://store.example.com{partner_url(listing.app.partner)}",
    }
    for url, canonical in checks.items():
        body = client.get(url).content.decode()
        assert f'<link rel="canonical" href="{canonical}">' in body, url
        assert '<meta name="description" content="' in body, url
    assert 'name="robots" content="noindex, follow"' in client.get("/apps/?q=sync").content.decode()
    assert 'name="robots"' not in client.get("/apps/").content.decode()


def test_about_html_is_the_sanitised_copy(client, partner_member):
    """The page renders ``about`` as HTML only because the listing service cleans it."""
    from appstore.services import listings as listing_services

    app = AppFactory(partner=partner_member.partner)
    draft = ListingFactory(app=app)
    listing_services.update_listing(actor=partner_member.user, listing=draft, fields={
        "about": '<p>Nice <b>app</b><script>alert(1)</script><img src=x onerror="alert(2)"></p>'})
    draft.refresh_from_db()
    draft.state = VersionState.PUBLISHED
    draft.published_at = timezone.now()
    draft.save()
    body = client.get(app_url(draft)).content.decode()
    assert "<p>Nice <b>app</b></p>" in body
    assert "<script>alert(1)" not in body and "onerror" not in body


def test_custom_apps_never_appear_in_the_store(client):
    listing = published_listing(app=AppFactory(name="Bespoke Badger", is_custom=True))
    for url in (reverse("store:home"), reverse("store:search") + "?q=badger"):
        assert "Bespoke Badger" not in client.get(url).content.decode(), url
    assert app_url(listing) not in client.get(reverse("sitemap")).content.decode()
    assert client.get(app_url(listing)).status_code == 404


def test_robots_txt_keeps_crawlers_out_of_private_areas_and_names_the_sitemap(client, settings):
    settings.SITE_URL = "https://store.example.com"
    body = client.get("/robots.txt").content.decode()
    for private in ("/portal/", "/review/", "/accounts/", "/admin/"):
        assert f"Disallow: {private}" in body
    assert "Disallow: /apps/*/go/" in body
    assert "Sitemap: https://store.example.com/sitemap.xml" in body


def test_api_docs_load_their_assets_from_this_site(client):
    body = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn.jsdelivr.net" not in body

"""A store of N published apps for the benchmark, written with bulk inserts.

Runs inside a configured Django (bench/run.py sets it up against the benchmark database).
Every bench partner's SEO name starts with ``bench-``; a reload deletes only those rows.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from appstore.demo import icon_png, initials, screenshot_png
from appstore.models import (
    App,
    AppTemplate,
    Category,
    ImageKind,
    Language,
    LinkKind,
    ListingImage,
    ListingLink,
    ListingVersion,
    Market,
    Partner,
    PriceModel,
    VersionState,
)
from appstore.names import name_key
from appstore.services.listings import build_search_text
from tenants.models import Environment

PREFIX = "bench-"
COLORS = ["#1d4ed8", "#7c3aed", "#ea580c", "#059669", "#db2777", "#0891b2", "#4f46e5", "#ca8a04",
          "#dc2626", "#0f766e"]
PARTNER_WORDS = (["Nordic", "Alpine", "Baltic", "Fjord", "Harbour", "Polar", "Summit", "Meadow", "Granite",
                  "Aurora"], ["Software", "Systems", "Labs", "Solutions"])
APP_WORDS = (["Swift", "Clear", "Bright", "Smart", "True", "Rapid", "Simple", "Prime", "Blue", "North",
              "Open", "Solid", "Quick", "Silver", "Green", "Pure", "Bold", "Calm", "Deep", "Fresh"],
             ["Sync", "Sign", "Ledger", "Dial", "Insight", "Mailer", "Connect", "Quotes", "Notes", "Planner",
              "Lookup", "Relay", "Forms", "Reports", "Campaigns", "Archive", "Calendar", "Bridge",
              "Cleaner", "Forecast", "Inbox", "Pulse", "Flow", "Desk", "Hub"])
# Per category: a header, two sentences for "about", features and keywords.
TOPICS = {
    "email-document-calendar": ("Keep e-mail, documents and calendars in sync with your CRM",
                                "Archive e-mails and meetings to the right contact.",
                                ["Calendar sync", "One-click archiving"], "email, calendar, documents"),
    "digital-signature": ("Send contracts for e-signature from any sale",
                          "Customers sign on any device and the signed PDF is filed automatically.",
                          ["BankID signing", "Reminders"], "e-signature, contracts"),
    "business-intelligence-reporting": ("Dashboards and reports on your CRM data",
                                        "See pipeline and activity per team without a data warehouse.",
                                        ["Ready-made dashboards", "Scheduled reports"], "bi, reporting"),
    "prospecting-data-quality": ("Find companies and keep contact data clean",
                                 "Fill in addresses and org numbers from official registers.",
                                 ["Company lookup", "Duplicate detection"], "prospecting, data quality"),
    "integration-tools": ("Connect your CRM to hundreds of business systems",
                          "Build sync flows between webshops, accounting and HR without code.",
                          ["Ready connectors", "Run monitoring"], "integration, sync, connectors"),
    "cti": ("Caller ID, click to call and call logging", "Every call is logged as an activity.",
            ["Caller ID", "Click to call"], "cti, telephony"),
    "productivity": ("Follow-ups, tasks and templates that save time every day",
                     "Automate the routine work around sales and service.",
                     ["Task automation", "Templates"], "productivity, automation"),
    "email-marketing-sms": ("Newsletters and SMS campaigns to CRM selections",
                            "Opens and clicks are written back to each contact.",
                            ["Drag-and-drop editor", "SMS reminders"], "email marketing, sms"),
    "erp": ("Two-way sync of customers, products and invoices with your ERP",
            "Sales and finance see the same customer, with invoices on the company card.",
            ["Customer sync", "Invoice history"], "erp, sync, invoices"),
    "quotations": ("Quotes from live prices and stock, right in the sale",
                   "Turn an accepted quote into an order with one click.",
                   ["Live prices", "Order on acceptance"], "quotes, pricing"),
}
FILLER = ("Setup takes minutes and needs no installation on your servers. Support is included and "
          "answered by people who know the CRM.")


def _shared_images() -> dict[str, list[tuple[str, int, int]]]:
    """A few stored pictures that every bench listing points at (drawn once, kept between runs)."""
    names: dict[str, list[tuple[str, int, int]]] = {"icon": [], "shot": []}
    for n, color in enumerate(COLORS):
        name = f"bench/icon-{n}.png"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(icon_png(initials(APP_WORDS[1][n]), color)))
        names["icon"].append((name, 488, 488))
    for n, variant in enumerate(("dashboard", "table")):
        name = f"bench/screenshot-{n}.png"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(screenshot_png(
                app_name="Bench App", partner_name="Bench Partner", color=COLORS[n], variant=variant,
                title="Overview", statuses=("Synced", "Pending"))))
        names["shot"].append((name, 1920, 1080))
    return names


def bench_app_count() -> int:
    return App.objects.filter(partner__seo_name__startswith=PREFIX).count()


@transaction.atomic
def load(count: int = 1000, seed: int = 1) -> None:
    """Replace the bench partners' apps with ``count`` published apps."""
    rng = random.Random(seed)
    ListingVersion.objects.filter(app__partner__seo_name__startswith=PREFIX).delete()
    App.objects.filter(partner__seo_name__startswith=PREFIX).delete()
    Partner.objects.filter(seo_name__startswith=PREFIX).delete()

    partners = Partner.objects.bulk_create([
        Partner(name=f"{a} {b}", seo_name=f"{PREFIX}{a}-{b}".lower(),
                website=f"https://www.{a}{b}.example".lower())
        for a in PARTNER_WORDS[0] for b in PARTNER_WORDS[1]])
    categories = list(Category.objects.order_by("rank"))
    languages = list(Language.objects.all())
    markets = list(Market.objects.all())
    environment = Environment.objects.get(code=settings.STORE_ENVIRONMENT)
    images = _shared_images()
    now = timezone.now()

    apps, seen = [], set()
    for i in range(count):
        base = f"{rng.choice(APP_WORDS[0])} {rng.choice(APP_WORDS[1])}"
        name = base if base not in seen else f"{base} {i}"
        seen.add(name)
        partner = partners[i % len(partners)]
        apps.append(App(partner=partner, name=name, name_key=name_key(name),
                        seo_name=name.lower().replace(" ", "-"),
                        template=AppTemplate.WEB, is_beta=rng.random() < 0.1,
                        install_count=int(rng.paretovariate(1.2) * 20), is_featured=len(apps) < 12,
                        listed_at=now - timedelta(minutes=rng.randrange(60 * 24 * 365))))
    apps = App.objects.bulk_create(apps)

    listings = []
    for i, app in enumerate(apps):
        category = categories[i % len(categories)]
        header, sentence, features, keywords = TOPICS[category.slug]
        is_free = rng.random() < 0.4
        listing = ListingVersion(
            app=app, environment=environment, label="1.0", state=VersionState.PUBLISHED,
            header=f"{app.name}: {header.lower()}"[:98],
            about=f"<p><b>{app.name}</b> by {app.partner.name}. {sentence} {FILLER}</p>",
            key_features=features + [f"Made for {rng.choice(markets).name}"],
            is_free=is_free, lowest_price_eur=None if is_free else Decimal(rng.choice([5, 9, 15, 29, 49])),
            price_model=PriceModel.FREE if is_free else rng.choice(
                [PriceModel.PER_USER_MONTH, PriceModel.PER_SITE_MONTH, PriceModel.PAY_PER_USE]),
            terms_url=f"{app.partner.website}/terms", supported_plans="Essential, Standard, Premium",
            install_steps=["Click Install.", "Approve the app."], requirements="A CRM Online subscription.",
            meta_description=f"{app.name}: {header}."[:160], keywords=keywords,
            published_at=now - timedelta(minutes=rng.randrange(60 * 24 * 365)),
        )
        listing.search_text = build_search_text(listing)
        listings.append(listing)
    listings = ListingVersion.objects.bulk_create(listings)

    through = (ListingVersion.categories.through, ListingVersion.languages.through,
               ListingVersion.markets.through)
    cat_rows, lang_rows, market_rows, image_rows, link_rows = [], [], [], [], []
    for i, listing in enumerate(listings):
        cats = {categories[i % len(categories)].pk}
        if rng.random() < 0.3:
            cats.add(rng.choice(categories).pk)
        cat_rows += [through[0](listingversion_id=listing.pk, category_id=pk) for pk in cats]
        lang_rows += [through[1](listingversion_id=listing.pk, language_id=lang.pk)
                      for lang in rng.sample(languages, rng.randint(1, 4))]
        market_rows += [through[2](listingversion_id=listing.pk, market_id=m.pk)
                        for m in rng.sample(markets, rng.randint(1, 4))]
        icon = images["icon"][i % len(images["icon"])]
        for kind, (path, width, height), position in (
                (ImageKind.HOME_ICON, icon, 0), (ImageKind.DETAIL_ICON, icon, 0),
                (ImageKind.SCREENSHOT, images["shot"][0], 0), (ImageKind.SCREENSHOT, images["shot"][1], 1)):
            image_rows.append(ListingImage(listing=listing, kind=kind, image=path, width=width, height=height,
                                           alt_text=f"{listing.app.name} {kind}", position=position))
        site = listing.app.partner.website
        link_rows += [
            ListingLink(listing=listing, kind=LinkKind.INSTALL, url=f"{site}/install", label="Install"),
            ListingLink(listing=listing, kind=LinkKind.SUPPORT, url=f"{site}/support", label="Support"),
        ]
    for model, rows in ((through[0], cat_rows), (through[1], lang_rows), (through[2], market_rows),
                        (ListingImage, image_rows), (ListingLink, link_rows)):
        model.objects.bulk_create(rows, batch_size=2000)

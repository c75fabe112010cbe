"""Reads of the public App Store: only live listings of the store's environment.

A listing is live when it is published, not superseded and published to
``settings.STORE_ENVIRONMENT``. Nothing else (drafts, pending, rejected, superseded
versions, other environments) ever leaves this module.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from ..models import (
    Category,
    ImageKind,
    Language,
    LinkKind,
    ListingImage,
    ListingLink,
    ListingVersion,
    Market,
    Partner,
    VersionState,
)

PAGE_SIZE = 24
SORTS = {
    "relevance": "Relevance",
    "name": "Name",
    "newest": "Newest",
    "installs": "Most installed",
}
PRICES = {"free": "Free", "paid": "Paid"}
BETA = {"only": "Beta only", "exclude": "No beta apps"}
MAX_QUERY_LENGTH = 200
MAX_TERMS = 20
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class StoreFilters:
    """What a visitor asked the search page for, already checked against known values."""

    q: str = ""
    categories: tuple[str, ...] = ()
    language: str = ""
    market: str = ""
    price: str = ""
    beta: str = ""
    sort: str = ""

    @property
    def effective_sort(self) -> str:
        if self.sort and not (self.sort == "relevance" and not self.q):
            return self.sort
        return "relevance" if self.q else "newest"

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.categories or self.language or self.market or self.price
                    or self.beta)


# ---------------------------------------------------------------- base querysets

def live_listings() -> QuerySet[ListingVersion]:
    """Every live listing of the store's environment (no related data loaded).

    Custom apps are made for one customer and never listed, whatever their versions say.
    """
    return ListingVersion.objects.filter(
        state=VersionState.PUBLISHED,
        superseded_at__isnull=True,
        environment__code=settings.STORE_ENVIRONMENT,
        app__is_custom=False,
    )


# Long texts an app tile never shows; leaving them out keeps list queries light.
CARD_DEFERRED = ("about", "key_features", "whats_new", "install_steps", "requirements",
                 "search_text", "search_vector", "meta_description", "keywords",
                 "review_reason")


def _cards(queryset: QuerySet[ListingVersion]) -> QuerySet[ListingVersion]:
    """What an app tile needs: app, partner and the home icon (as ``home_icons``)."""
    return queryset.select_related("app__partner").defer(*CARD_DEFERRED).prefetch_related(
        Prefetch("images", queryset=ListingImage.objects.filter(kind=ImageKind.HOME_ICON),
                 to_attr="home_icons"),
    )


# ---------------------------------------------------------------- home

def featured_listings(*, limit: int = 8) -> list[ListingVersion]:
    return list(_cards(live_listings().filter(app__is_featured=True))
                .order_by("-app__listed_at", "-pk")[:limit])


def newest_listings(*, limit: int = 8) -> list[ListingVersion]:
    return list(_cards(live_listings()).order_by("-app__listed_at", "-pk")[:limit])


def categories_with_counts() -> list[Category]:
    """All categories, each with ``live_count``: how many live apps it holds."""
    live_ids = live_listings().values("pk")
    return list(Category.objects.annotate(
        live_count=Count("listings", filter=Q(listings__pk__in=live_ids), distinct=True)))


# ---------------------------------------------------------------- search

def search_listings(filters: StoreFilters) -> QuerySet[ListingVersion]:
    """Live listings matching the text and filters, ordered by the chosen sort."""
    queryset = _cards(live_listings())
    if filters.categories:
        queryset = queryset.filter(Exists(
            ListingVersion.categories.through.objects.filter(
                listingversion_id=OuterRef("pk"), category__slug__in=filters.categories)))
    if filters.language:
        queryset = queryset.filter(Exists(
            ListingVersion.languages.through.objects.filter(
                listingversion_id=OuterRef("pk"), language__code=filters.language)))
    if filters.market:
        queryset = queryset.filter(Exists(
            ListingVersion.markets.through.objects.filter(
                listingversion_id=OuterRef("pk"), market__slug=filters.market)))
    if filters.price == "free":
        queryset = queryset.filter(is_free=True)
    elif filters.price == "paid":
        queryset = queryset.filter(is_free=False)
    if filters.beta == "only":
        queryset = queryset.filter(app__is_beta=True)
    elif filters.beta == "exclude":
        queryset = queryset.filter(app__is_beta=False)

    include, exclude = search_terms(filters.q)
    if include or exclude:
        queryset = _full_text(queryset, filters.q, include, exclude)
    elif filters.q:  # only punctuation: nothing can match
        queryset = queryset.none()
    sort = filters.effective_sort
    if sort == "relevance" and (include or exclude):
        return queryset.order_by("-rank", "-app__listed_at", "-pk")
    if sort == "name":
        return queryset.order_by("app__name", "pk")
    if sort == "installs":
        return queryset.order_by("-app__install_count", "app__name", "pk")
    return queryset.order_by("-app__listed_at", "-pk")


def search_terms(q: str) -> tuple[list[str], list[str]]:
    """The words to find and the words to exclude (written ``-word``), lowercased.

    Only letters and digits survive, so the words are safe inside a raw tsquery.
    """
    include: list[str] = []
    exclude: list[str] = []
    for chunk in (q or "").split()[:MAX_TERMS]:
        words = _WORD.findall(chunk.lower())
        (exclude if chunk.startswith("-") else include).extend(words)
    return include, exclude


def search_vector() -> F:
    # The stored tsvector (kept by a trigger, GIN-indexed: migration 0004); ranking reads it
    # instead of parsing every matching text again.
    return F("search_vector")


def search_query(q: str, include: list[str], exclude: list[str]) -> SearchQuery:
    """Web-search syntax ("quotes", -not, or), widened so each word also matches as a prefix.

    ``acm sync`` finds "Acme Synchroniser"; the prefix form keeps the exclusions.
    """
    query = SearchQuery(q, config="simple", search_type="websearch")
    if include and not any(chunk.lower() == "or" for chunk in q.split()):
        prefix = " & ".join([f"{word}:*" for word in include] + [f"!{word}" for word in exclude])
        query = query | SearchQuery(prefix, config="simple", search_type="raw")
    return query


def _full_text(queryset: QuerySet[ListingVersion], q: str, include: list[str],
               exclude: list[str]) -> QuerySet[ListingVersion]:
    if connection.vendor == "postgresql":
        query = search_query(q, include, exclude)
        return queryset.annotate(rank=SearchRank(search_vector(), query)).filter(search_vector=query)
    # SQLite (development): every word must appear; name and header hits rank first.
    for word in include:
        queryset = queryset.filter(search_text__icontains=word)
    for word in exclude:
        queryset = queryset.exclude(search_text__icontains=word)
    if not include:
        return queryset.annotate(rank=Value(0, output_field=IntegerField()))
    first = include[0]
    return queryset.annotate(rank=Case(
        When(app__name__icontains=first, then=Value(2)),
        When(header__icontains=first, then=Value(1)),
        default=Value(0), output_field=IntegerField()))


def filter_choices() -> dict:
    """The sidebar's options."""
    return {
        "categories": list(Category.objects.all()),
        "languages": list(Language.objects.all()),
        "markets": list(Market.objects.all()),
    }


# ---------------------------------------------------------------- partner and app pages

def partner_with_live_apps(seo_name: str) -> tuple[Partner, list[ListingVersion]]:
    """A partner and its live listings; Partner.DoesNotExist when it has none in the store."""
    partner = Partner.objects.get(seo_name=seo_name)
    listings = list(_cards(live_listings().filter(app__partner=partner)).order_by("app__name"))
    if not listings:
        raise Partner.DoesNotExist(f"No live apps for partner {seo_name!r}")
    return partner, listings


def partners_with_live_apps() -> QuerySet[Partner]:
    return Partner.objects.filter(
        Exists(live_listings().filter(app__partner=OuterRef("pk")))).order_by("seo_name")


def live_listing_page(partner_seo: str, app_seo: str) -> ListingVersion:
    """Everything the app page shows, or ListingVersion.DoesNotExist.

    Loaded onto the listing: ``detail_icons``, ``screenshots``, ``link_list``, videos,
    categories, languages and markets.
    """
    return (live_listings()
            .select_related("app__partner")
            .prefetch_related(
                Prefetch("images", queryset=ListingImage.objects.filter(kind=ImageKind.DETAIL_ICON),
                         to_attr="detail_icons"),
                Prefetch("images", queryset=ListingImage.objects.filter(kind=ImageKind.SCREENSHOT)
                         .order_by("position", "id"), to_attr="screenshots"),
                Prefetch("links", queryset=ListingLink.objects.all(), to_attr="link_list"),
                "videos", "categories", "languages", "markets")
            .get(app__partner__seo_name=partner_seo, app__seo_name=app_seo))


def more_from_partner(listing: ListingVersion, *, limit: int = 4) -> list[ListingVersion]:
    return list(_cards(live_listings().filter(app__partner_id=listing.app.partner_id)
                       .exclude(pk=listing.pk)).order_by("app__name")[:limit])


def live_link(partner_seo: str, app_seo: str, kind: str) -> ListingLink:
    """The link of that kind in the app's live listing, or ListingLink.DoesNotExist."""
    if kind not in LinkKind.values:
        raise ListingLink.DoesNotExist(f"Unknown link kind {kind!r}")
    return ListingLink.objects.select_related("listing__app").get(
        listing__in=live_listings(), listing__app__partner__seo_name=partner_seo,
        listing__app__seo_name=app_seo, kind=kind)


def sitemap_listings() -> QuerySet[ListingVersion]:
    return live_listings().select_related("app__partner").order_by("app__partner__seo_name",
                                                                    "app__seo_name")

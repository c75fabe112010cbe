"""The public App Store: home, search, partner pages, app pages and the /go/ redirect."""

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .. import installed
from ..models import LinkKind, ListingLink, ListingVersion, Partner
from ..selectors import store as selectors
from ..selectors.profile import live_profile
from ..services.store import record_link_click

app_name = "store"


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def absolute_url(path_or_url: str) -> str:
    """SITE_URL + path, for canonical links and Open Graph (URLs already absolute pass through)."""
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return settings.SITE_URL + path_or_url


# ---------------------------------------------------------------- home

@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "appstore/store/home.html", {
        "featured": selectors.featured_listings(),
        "newest": selectors.newest_listings(),
        "categories": selectors.categories_with_counts(),
        "canonical_url": absolute_url(reverse("store:home")),
    })


# ---------------------------------------------------------------- search

def parse_filters(params: QueryDict, choices: dict) -> selectors.StoreFilters:
    """Read the search GET parameters; values that are not known options are dropped."""
    known_categories = {c.slug for c in choices["categories"]}
    language = params.get("language", "")
    market = params.get("market", "")
    return selectors.StoreFilters(
        q=" ".join(params.get("q", "").split())[:selectors.MAX_QUERY_LENGTH],
        categories=tuple(dict.fromkeys(
            slug for slug in params.getlist("category") if slug in known_categories)),
        language=language if language in {lang.code for lang in choices["languages"]} else "",
        market=market if market in {m.slug for m in choices["markets"]} else "",
        price=params.get("price", "") if params.get("price") in selectors.PRICES else "",
        beta=params.get("beta", "") if params.get("beta") in selectors.BETA else "",
        sort=params.get("sort", "") if params.get("sort") in selectors.SORTS else "",
    )


def _querystring(params: list[tuple[str, str]]) -> str:
    query = QueryDict(mutable=True)
    for key, value in params:
        query.appendlist(key, value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


def _filter_params(filters: selectors.StoreFilters) -> list[tuple[str, str]]:
    params = [("q", filters.q)] if filters.q else []
    params += [("category", slug) for slug in filters.categories]
    for key in ("language", "market", "price", "beta", "sort"):
        value = getattr(filters, key)
        if value:
            params.append((key, value))
    return params


def active_filters(filters: selectors.StoreFilters, choices: dict) -> list[dict]:
    """One chip per active filter, each with the URL that removes just that filter."""
    names = {
        "category": {c.slug: c.name for c in choices["categories"]},
        "language": {lang.code: lang.name for lang in choices["languages"]},
        "market": {m.slug: m.name for m in choices["markets"]},
        "price": selectors.PRICES,
        "beta": selectors.BETA,
    }
    params = _filter_params(filters)
    chips = []
    for index, (key, value) in enumerate(params):
        if key == "sort":
            continue
        label = f"“{value}”" if key == "q" else names[key][value]
        rest = params[:index] + params[index + 1:]
        chips.append({"label": label, "kind": key, "remove_url": reverse("store:search")
                      + _querystring(rest)})
    return chips


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    choices = selectors.filter_choices()
    filters = parse_filters(request.GET, choices)
    paginator = Paginator(selectors.search_listings(filters), selectors.PAGE_SIZE)
    try:  # a page past the end is not a page: 404, so crawlers drop it
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404("No such page of results.") from exc
    base_params = _filter_params(filters)

    def page_url(number: int) -> str:
        return reverse("store:search") + _querystring(
            base_params + ([("page", str(number))] if number > 1 else []))

    page_items = [
        {"number": number, "url": page_url(number), "current": number == page.number}
        if isinstance(number, int) else {"ellipsis": True}
        for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    canonical = reverse("store:search")
    if not filters.is_filtered and page.number > 1:
        canonical += f"?page={page.number}"
    return render(request, "appstore/store/search.html", {
        "filters": filters,
        "choices": choices,
        "sorts": selectors.SORTS,
        "prices": selectors.PRICES,
        "beta_options": selectors.BETA,
        "active_filters": active_filters(filters, choices),
        "page": page,
        "page_items": page_items if paginator.num_pages > 1 else [],
        "previous_url": page_url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": page_url(page.next_page_number()) if page.has_next() else "",
        "result_count": paginator.count,
        "canonical_url": absolute_url(canonical),
        # Filtered and text searches are endless variations of /apps/: keep them out of indexes.
        "noindex": filters.is_filtered or bool(filters.sort),
    })


# ---------------------------------------------------------------- partner and app pages

@require_safe
def partner(request: HttpRequest, partner_seo: str) -> HttpResponse:
    try:
        found, listings = selectors.partner_with_live_apps(partner_seo)
    except Partner.DoesNotExist as exc:
        raise Http404("No such partner in the store") from exc
    profile = live_profile(found)
    return render(request, "appstore/store/partner.html", {
        "partner": found,
        "listings": listings,
        "profile": profile,
        "og_image": absolute_url(profile.logo.url) if profile and profile.logo else "",
        "canonical_url": absolute_url(reverse("store:partner", args=[found.seo_name])),
    })


@require_safe
def app_detail(request: HttpRequest, partner_seo: str, app_seo: str) -> HttpResponse:
    try:
        listing = selectors.live_listing_page(partner_seo, app_seo)
    except ListingVersion.DoesNotExist as exc:
        raise Http404("No such app in the store") from exc
    app = listing.app
    links = {link.kind: link for link in listing.link_list}
    other_links = [
        {"kind": kind, "label": links[kind].label,
         "url": reverse("store:go", args=[app.partner.seo_name, app.seo_name, kind])}
        for kind in LinkKind.values if kind != LinkKind.INSTALL and kind in links
    ]
    install = links.get(LinkKind.INSTALL)
    detail_icon = listing.detail_icons[0] if listing.detail_icons else None
    return render(request, "appstore/store/app.html", {
        "listing": listing,
        "app": app,
        "partner": app.partner,
        "detail_icon": detail_icon,
        "install_link": install,
        "install_url": reverse("store:go", args=[app.partner.seo_name, app.seo_name,
                                                 LinkKind.INSTALL]) if install else "",
        "other_links": other_links,
        "more_from_partner": selectors.more_from_partner(listing),
        "installed_for": installed.installed_for(request.user, [app.pk],
                                                 settings.STORE_ENVIRONMENT).get(app.pk, ""),
        "canonical_url": absolute_url(reverse("store:app", args=[app.partner.seo_name,
                                                                 app.seo_name])),
        "og_image": absolute_url(detail_icon.image.url) if detail_icon else "",
    })


@never_cache
@require_safe
def go(request: HttpRequest, partner_seo: str, app_seo: str, kind: str) -> HttpResponse:
    """Send the visitor to the URL staff approved in the live listing; never to one from the request."""
    try:
        link = selectors.live_link(partner_seo, app_seo, kind)
    except ListingLink.DoesNotExist as exc:
        raise Http404("This app has no such link") from exc
    if request.method == "GET":  # link checkers send HEAD; they are not visitors
        record_link_click(link=link)
    response = HttpResponseRedirect(link.url)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


ROBOTS_DISALLOW = ("/portal/", "/review/", "/my/", "/accounts/", "/admin/", "/api/")


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl the store, not the private areas; point crawlers at the sitemap."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW),
             "Disallow: /apps/*/go/", f"Sitemap: {settings.SITE_URL}/sitemap.xml", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")


urlpatterns = [
    path("robots.txt", robots_txt, name="robots"),
    path("", home, name="home"),
    path("apps/", search, name="search"),
    path("apps/<slug:partner_seo>/", partner, name="partner"),
    path("apps/<slug:partner_seo>/<slug:app_seo>/", app_detail, name="app"),
    path("apps/<slug:partner_seo>/<slug:app_seo>/go/<slug:kind>", go, name="go"),
]

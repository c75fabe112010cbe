"""/sitemap.xml: the store's public pages, with absolute URLs built from SITE_URL.

The Sites framework is not installed, so the host and scheme come from SITE_URL rather
than from the request (a request's Host header is not what search engines should index).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .selectors import store as selectors


class SiteUrlSitemap(Sitemap):
    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None):
        parts = urlsplit(settings.SITE_URL)
        return parts.netloc + parts.path.rstrip("/")


class StorePagesSitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["store:home", "store:search"]

    def location(self, item):
        return reverse(item)


class PartnerSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return selectors.partners_with_live_apps()

    def location(self, item):
        return reverse("store:partner", args=[item.seo_name])


class AppSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return selectors.sitemap_listings()

    def location(self, item):
        return reverse("store:app", args=[item.app.partner.seo_name, item.app.seo_name])

    def lastmod(self, item):
        return item.published_at


SITEMAPS: dict = {
    "store": StorePagesSitemap,
    "partners": PartnerSitemap,
    "apps": AppSitemap,
}

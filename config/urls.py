from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import EmailAddressesView
from appstore.sitemaps import SITEMAPS
from appstore.urls import portal_patterns, review_patterns
from appstore.views.portal import PartnerSignupView
from config.views import healthz
from provisioning import request_urls as authorization_requests
from provisioning import views_deliveries as deliveries
from provisioning import views_partner_tenants as partner_tenants

handler404 = "appstore.views.store.page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Signing up from the portal creates a company; allauth handles the rest of the account.
    path("accounts/signup/", PartnerSignupView.as_view(), name="account_signup"),
    path("accounts/email/", EmailAddressesView.as_view(), name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("portal/", include(authorization_requests.portal_patterns)),
    path("portal/", include(deliveries.portal_patterns)),
    path("review/", include(authorization_requests.review_patterns)),
    path("my/", include(authorization_requests.customer_patterns)),
    path("portal/", include(portal_patterns)),
    path("portal/", include(partner_tenants.portal_patterns)),
    path("review/", include(review_patterns)),
    path("api/v1/", include("appstore.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("healthz", healthz, name="healthz"),
    path("sandbox/", include("crm_sandbox.urls")),
    path("my/", include("provisioning.customer_urls")),
    path("my/", include("tenants.views_members")),
    path("my/<slug:env>/<str:ctx>/apps/<int:authorization_pk>/erp/", include("integrations.urls")),
    path("review/tenants/", include("tenants.views_staff")),
    path("", include("provisioning.urls")),
    path("", include("tenants.urls")),
    path("", include("appstore.views.store")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

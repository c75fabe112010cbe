"""The portal and review URL namespaces, gathered from the view modules that serve them.

Each view module lists its own routes; a module serving both areas names them
``portal_urlpatterns`` and ``review_urlpatterns``.
"""

from .views import (
    api_tokens,
    company,
    configuration,
    credentials,
    dev_tenants,
    portal,
    review,
    staff_apps,
    team,
)

portal_patterns = ([*portal.urlpatterns, *configuration.portal_urlpatterns, *api_tokens.portal_urlpatterns,
                    *credentials.portal_urlpatterns, *team.portal_urlpatterns,
                    *company.portal_urlpatterns, *dev_tenants.portal_urlpatterns], "portal")
review_patterns = ([*review.urlpatterns, *configuration.review_urlpatterns, *staff_apps.review_urlpatterns,
                    *company.review_urlpatterns], "review")

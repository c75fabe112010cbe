"""Where a tenant lives: its web API URL and its base URL, shared by the state API and the
login service's claims so both always name the same addresses."""

from django.conf import settings

from .models import Tenant


def webapi_url(tenant: Tenant) -> str:
    """The tenant's CRM web API; without one recorded, the CRM sandbox's API for the tenant."""
    return (tenant.webapi_url
            or f"{settings.SITE_URL}/sandbox/{tenant.environment.code}/{tenant.context_identifier}/api/")


def base_url(tenant: Tenant) -> str:
    """The tenant's public endpoint; without one, the web API URL up to its ``/api`` part."""
    return tenant.public_endpoint or webapi_url(tenant).rsplit("/api", 1)[0]

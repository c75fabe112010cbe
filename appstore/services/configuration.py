"""Configuration versions: the first one made with the app, drafts, publishing and review."""

from django.utils import timezone

from audit import services as audit
from tenants.models import Environment

from ..models import App, ConfigurationVersion, EndpointKind, UrlScope, VersionState


def create_initial_configuration(*, actor, app: App, defaults: dict, redirect_urls: list[str],
                                 erp_endpoint_url: str = "", quote_endpoint_url: str = ""
                                 ) -> ConfigurationVersion:
    """Configuration 1.0 from the template's defaults, published to sod at once (SPEC §4)."""
    endpoints = {}
    if erp_endpoint_url:
        endpoints[EndpointKind.ERP_SYNC] = {"url": erp_endpoint_url, "enabled": True,
                                            "send_error_emails": True}
    if quote_endpoint_url:
        endpoints[EndpointKind.QUOTE] = {"url": quote_endpoint_url, "enabled": True,
                                         "send_error_emails": True}
    version = ConfigurationVersion.objects.create(
        app=app, environment=Environment.objects.get(code="sod"), label="1.0",
        state=VersionState.PUBLISHED, published_at=timezone.now(), created_by=actor,
        redirect_urls={UrlScope.ALL: redirect_urls} if redirect_urls else {},
        endpoints=endpoints, api_endpoints=list(defaults["api_endpoints"]),
        agents=list(defaults["agents"]), claims=list(defaults["claims"]),
    )
    audit.record(event_type="configuration_version_published", actor=actor, partner=app.partner,
                 app=app, target=version, message="Configuration 1.0 created and published to sod",
                 changes={"state": [None, version.state]})
    return version

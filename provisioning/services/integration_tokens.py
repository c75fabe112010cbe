"""The platform's integration service identity (SPEC §9): short-lived access tokens with which the
integration workers call a tenant's CRM API for one app, recognisable by introspection."""

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import set_token_value

from ..models import AccessToken, Authorization, LoginClient

INTEGRATION_TOKEN_LIFETIME = timedelta(minutes=15)
INTEGRATION_SCOPE = "openid integration"


class IntegrationTokenRefused(Exception):  # noqa: N818 - a refusal with a reason for the run log
    pass


@sensitive_variables("raw")
@transaction.atomic
def issue_integration_token(*, authorization: Authorization) -> tuple[str, datetime]:
    """A new ``8A:<ctx>.<random>`` token for the app and tenant of ``authorization`` and when it
    expires; refused while the authorization is not usable (uninstalled, expired, needs re-approval)."""
    authorization = Authorization.objects.select_related("tenant__environment", "app").get(
        pk=authorization.pk
    )
    if not authorization.is_usable:
        state = "needs re-approval" if authorization.needs_reapproval else authorization.current_status
        raise IntegrationTokenRefused(
            f"{authorization.app.name} is not authorized in "
            f"{authorization.tenant.context_identifier} ({state})."
        )
    client = LoginClient.objects_all.filter(
        app_client__app=authorization.app, environment=authorization.tenant.environment
    ).first()
    if client is None:
        raise IntegrationTokenRefused(
            f"{authorization.app.name} has no client in {authorization.tenant.environment.code}."
        )
    raw = f"8A:{authorization.tenant.context_identifier}.{secrets.token_urlsafe(32)}"
    expires = timezone.now() + INTEGRATION_TOKEN_LIFETIME
    token = AccessToken(
        user=None,
        scope=INTEGRATION_SCOPE,
        expires=expires,
        application=client,
        authorization=authorization,
        integration_service=True,
    )
    set_token_value(token, raw)
    token.save()
    return raw, expires

"""Reads of custom-app authorization requests: the partner's (scoped to the partner), staff's queue,
and the customer's confirmation link."""


from django.db.models import QuerySet
from django.utils import timezone

from accounts.tokens import token_checksum
from appstore.models import App, AuthorizationLevel, Partner
from appstore.selectors.configuration import live_configuration
from tenants.models import Environment, Tenant, TenantMember

from .models import Authorization, AuthorizationRequest, AuthorizationRequestState, AuthorizationStatus

# Custom apps are activated per customer only where they run at the Explicit level.
REQUEST_ENVIRONMENTS = ("stage", "online")
REQUEST_RELATIONS = ("app__partner", "environment", "requested_by", "decided_by", "authorization")


def request_environments(app: App) -> list[Environment]:
    """stage and online, where the app's live configuration is at the Explicit level."""
    if not app.is_custom:
        return []
    environments = []
    for env in Environment.objects.filter(code__in=REQUEST_ENVIRONMENTS).order_by("rank"):
        live = live_configuration(app, env)
        if live is not None and live.authorization_level == AuthorizationLevel.EXPLICIT:
            environments.append(env)
    return environments


def requests_of_app(partner: Partner, app_id: int) -> QuerySet[AuthorizationRequest]:
    """Every request of one of the partner's apps, newest first."""
    return (AuthorizationRequest.objects.filter(app__partner=partner, app_id=app_id)
            .select_related(*REQUEST_RELATIONS).order_by("-requested_at", "-id"))


def request_of_app(partner: Partner, app_id: int, pk: int) -> AuthorizationRequest:
    """A request of one of the partner's apps, or AuthorizationRequest.DoesNotExist."""
    return requests_of_app(partner, app_id).get(pk=pk)


def waiting_requests() -> QuerySet[AuthorizationRequest]:
    """Staff's queue: requests waiting for a decision, oldest first."""
    return (AuthorizationRequest.objects.filter(state=AuthorizationRequestState.REQUESTED)
            .select_related(*REQUEST_RELATIONS).order_by("requested_at", "id"))


def waiting_request_ids() -> QuerySet:
    """The waiting requests' ids, for the review badge's count (see appstore.selectors.review)."""
    waiting = AuthorizationRequest.objects.filter(state=AuthorizationRequestState.REQUESTED)
    return waiting.order_by().values("pk")


def recently_decided(limit: int = 20) -> list[AuthorizationRequest]:
    return list(AuthorizationRequest.objects.exclude(state=AuthorizationRequestState.REQUESTED)
                .select_related(*REQUEST_RELATIONS).order_by("-decided_at", "-id")[:limit])


def request_for_review(pk: int) -> AuthorizationRequest:
    return AuthorizationRequest.objects.select_related(*REQUEST_RELATIONS).get(pk=pk)


def tenant_of(request: AuthorizationRequest) -> Tenant | None:
    """The tenant the request names, in the request's environment, if it exists."""
    return Tenant.objects.filter(environment_id=request.environment_id,
                                 context_identifier=request.context_identifier).first()


def tenant_admins(tenant: Tenant) -> list[TenantMember]:
    return [member for member in TenantMember.objects.filter(tenant=tenant).select_related("user")
            .order_by("user__email") if member.is_admin]


def active_activation(app: App, tenant: Tenant) -> Authorization | None:
    """The app's authorization in the tenant when staff activated it and it is in force."""
    now = timezone.now()
    authorization = (Authorization.objects.filter(app=app, tenant=tenant, status=AuthorizationStatus.ACTIVE,
                                                  activated_by__isnull=False).first())
    if authorization is None or (authorization.valid_to and authorization.valid_to <= now):
        return None
    return authorization


def activation_for_token(token: str) -> AuthorizationRequest | None:
    """The activated request waiting for the customer's answer that a confirmation link names."""
    if not token or len(token) > 200:
        return None
    return (AuthorizationRequest.objects
            .select_related(*REQUEST_RELATIONS, "authorization__tenant__environment")
            .filter(state=AuthorizationRequestState.ACTIVATED, confirmation_checksum=token_checksum(token))
            .first())

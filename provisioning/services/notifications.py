"""State-change notifications (SPEC §6): an HTTP POST to every app authorized on a tenant whose
customer state change endpoint is on, when the tenant's state changes or the app is installed,
re-approved or uninstalled there.

Each event is a ``StateChangeNotification`` row; ``deliver`` makes one attempt and says when the
next one is due (the task schedules it). The JSON body is stored; the Token is signed again
for every attempt with the same ``jti`` (the event ID), so partners can ignore repeats.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from appstore.models import AppClient, ConfigurationVersion, EndpointKind, VersionState
from appstore.permissions import require_app_permission
from appstore.selectors.configuration import live_configuration
from appstore.services.configuration_fields import endpoint
from audit.models import AuditEntry
from audit.services import record
from tenants.models import Tenant
from tenants.signals import ChangeType

from .. import outbound
from ..models import (
    Authorization,
    AuthorizationStatus,
    DeliveryAttempt,
    DeliveryState,
    StateChangeNotification,
)
from ..oidc.validator import issuer_for
from .signing_keys import sign_jwt

TOKEN_LIFETIME_SECONDS = 300
# What a partner needs to change the endpoint; redelivering is part of running it.
REDELIVER_PERMISSION = "configuration"


def state_change_endpoint(version: ConfigurationVersion | None) -> dict | None:
    """The version's customer state change endpoint when it is on and has a URL, else None."""
    entry = endpoint(version, EndpointKind.STATE_CHANGE)
    return entry if entry["enabled"] and entry["url"] else None


def attempt_budget() -> int:
    return len(settings.NOTIFICATION_RETRY_DELAYS) + 1


def occurred_at_text(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, so two events of one second still order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def body_for(tenant: Tenant, change_type: int, occurred_at: datetime | None = None) -> dict:
    """The JSON posted, without the Token. The tenant keeps one version label, sent as both versions;
    OccurredAt is when the event was made, so a receiver can put late arrivals in order."""
    return {
        "ChangeType": int(change_type),
        "ContextIdentifier": tenant.context_identifier,
        "VersionName": tenant.version_label,
        "FileVersion": tenant.version_label,
        "PublicEndpoint": tenant.public_endpoint,
        "OccurredAt": occurred_at_text(occurred_at or timezone.now()),
    }


def _queue(notifications: list[StateChangeNotification]) -> None:
    ids = [notification.pk for notification in notifications]
    if not ids:
        return
    from ..tasks import deliver_state_change

    def send() -> None:
        for pk in ids:
            deliver_state_change.delay(pk, 1)

    transaction.on_commit(send)


def _new(authorization: Authorization, tenant: Tenant, change_type: int) -> StateChangeNotification:
    now = timezone.now()
    return StateChangeNotification(
        app_id=authorization.app_id, tenant=tenant, authorization=authorization,
        environment_id=tenant.environment_id, change_type=int(change_type), created_at=now,
        body=body_for(tenant, change_type, now), max_attempts=attempt_budget(), next_attempt_at=now)


@transaction.atomic
def notify_tenant_state_changed(*, tenant: Tenant, change_type: int) -> list[StateChangeNotification]:
    """One notification per app actively authorized on the tenant with its endpoint on there."""
    now = timezone.now()
    authorizations = list(
        Authorization.objects.filter(tenant=tenant, status=AuthorizationStatus.ACTIVE)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now)).order_by("pk"))
    if not authorizations:
        return []
    live = ConfigurationVersion.objects.filter(
        app_id__in={a.app_id for a in authorizations}, environment_id=tenant.environment_id,
        state=VersionState.PUBLISHED, superseded_at__isnull=True)
    listening = {version.app_id for version in live if state_change_endpoint(version)}
    notifications = StateChangeNotification.objects.bulk_create(
        [_new(a, tenant, change_type) for a in authorizations if a.app_id in listening])
    _queue(notifications)
    return notifications


@transaction.atomic
def notify_app_event(*, authorization: Authorization, change_type: int) -> StateChangeNotification | None:
    """Installed, re-approved or uninstalled: the one app hears of it when its endpoint is on."""
    tenant = authorization.tenant
    if state_change_endpoint(live_configuration(authorization.app, tenant.environment)) is None:
        return None
    notification = _new(authorization, tenant, change_type)
    notification.save()
    _queue([notification])
    return notification


# ---------------------------------------------------------------- delivery

@dataclass(frozen=True)
class DeliveryOutcome:
    state: str
    attempt: DeliveryAttempt
    retry_in: int | None = None  # seconds until the next attempt, when one is due


def token_for(notification: StateChangeNotification, client_id: str) -> str:
    now = int(timezone.now().timestamp())
    environment = notification.environment
    return sign_jwt(environment, {
        "iss": issuer_for(environment.code), "aud": client_id, "ctx": notification.tenant.context_identifier,
        "iat": now, "exp": now + TOKEN_LIFETIME_SECONDS, "jti": str(notification.event_id),
        "occurred_at": int(notification.created_at.timestamp()),
    })


def _post(notification: StateChangeNotification) -> tuple[str, outbound.OutboundResult | None, str, bool]:
    """(url, result, problem, final): the POST, or why it was not made and whether to stop trying."""
    authorization = notification.authorization
    if authorization.app_id != notification.app_id or authorization.tenant_id != notification.tenant_id:
        return "", None, "The authorization no longer belongs to this app and tenant.", True
    environment = notification.environment
    entry = state_change_endpoint(live_configuration(notification.app, environment))
    if entry is None:
        return "", None, f"The customer state change endpoint is off in {environment.code}.", False
    client = AppClient.objects.filter(app_id=notification.app_id, environment=environment).first()
    if client is None:
        return entry["url"], None, f"The app has no client in {environment.code}.", True
    # Events stored before OccurredAt was sent get it from their creation time.
    occurred = notification.body.get("OccurredAt") or occurred_at_text(notification.created_at)
    token = token_for(notification, client.client_id)
    payload = {**notification.body, "OccurredAt": occurred, "Token": token}
    return entry["url"], outbound.post_json(entry["url"], payload, purpose="state_change"), "", False


def deliver(*, notification_id: int, attempt: int) -> DeliveryOutcome | None:
    """Make attempt number ``attempt`` of a notification; None when it was made already or the
    notification is no longer pending (a repeated task)."""
    claimed = StateChangeNotification.objects.filter(
        pk=notification_id, state=DeliveryState.PENDING, attempts=attempt - 1, max_attempts__gte=attempt,
    ).update(attempts=attempt, next_attempt_at=timezone.now())  # in flight since; see resume_stalled
    if not claimed:
        return None
    notification = StateChangeNotification.objects.select_related(
        "app", "authorization", "tenant", "environment").get(pk=notification_id)
    started = timezone.now()
    url, result, problem, final = _post(notification)
    error = problem or (result.problem if result is not None and not result.ok else "")
    app, environment = notification.app, notification.environment
    with transaction.atomic():
        notification = StateChangeNotification.objects.select_for_update().get(pk=notification_id)
        logged = DeliveryAttempt.objects.create(
            notification=notification, number=attempt, attempted_at=started, url=url[:2000],
            status_code=result.status_code if result else None,
            duration_ms=result.duration_ms if result else 0, error=error[:DeliveryAttempt.MAX_ERROR_LENGTH])
        now = timezone.now()
        retry_in = None
        notification.next_attempt_at = None
        # Events made under a longer schedule keep their attempt budget; past the end, the last delay.
        delays = settings.NOTIFICATION_RETRY_DELAYS
        if result is not None and result.ok:
            notification.state = DeliveryState.DELIVERED
            notification.delivered_at = now
        elif final or attempt >= notification.max_attempts or not delays:
            notification.state = DeliveryState.FAILED
            _report_failure(notification, live_configuration(app, environment))
        else:
            retry_in = delays[min(attempt, len(delays)) - 1]
            notification.next_attempt_at = now + timedelta(seconds=retry_in)
        notification.save(update_fields=["state", "delivered_at", "next_attempt_at", "failure_reported_at"])
    return DeliveryOutcome(state=notification.state, attempt=logged, retry_in=retry_in)


def _report_failure(notification: StateChangeNotification, live: ConfigurationVersion | None) -> None:
    """E-mail the technical contact once per event, when the endpoint asks for error e-mails."""
    if notification.failure_reported_at is not None:
        return
    if not endpoint(live, EndpointKind.STATE_CHANGE)["send_error_emails"]:
        return
    notification.failure_reported_at = timezone.now()
    from ..tasks import send_delivery_failure_report

    pk = notification.pk
    transaction.on_commit(lambda: send_delivery_failure_report.delay(pk))


@transaction.atomic
def redeliver(*, actor: User, notification: StateChangeNotification) -> StateChangeNotification:
    """The partner asks for one more attempt of a delivered or failed event (same event ID)."""
    require_app_permission(user=actor, app=notification.app, permission=REDELIVER_PERMISSION)
    notification = (StateChangeNotification.objects.select_for_update(of=("self",))
                    .select_related("app__partner", "tenant").get(pk=notification.pk))
    if notification.state == DeliveryState.PENDING:
        raise ValidationError("This event is being delivered already; wait for its next attempt.",
                              code="pending")
    notification.state = DeliveryState.PENDING
    notification.max_attempts = notification.attempts + 1
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["state", "max_attempts", "next_attempt_at"])
    app, tenant = notification.app, notification.tenant
    record(event_type="notification.redelivered", actor=actor, source=AuditEntry.Source.PORTAL,
           partner=app.partner, app=app, tenant=tenant,
           message=(f"{ChangeType(notification.change_type).label} notification {notification.event_id} "
                    f"of {tenant.context_identifier} queued again for {app.name} by {actor.email}"))
    from ..tasks import deliver_state_change

    pk, number = notification.pk, notification.attempts + 1
    transaction.on_commit(lambda: deliver_state_change.delay(pk, number))
    return notification


# A due attempt not made, or one begun and never recorded, this long after its time was lost with a
# stopped worker; an attempt in flight keeps its start as next_attempt_at and takes seconds.
STALLED_AFTER = timedelta(minutes=10)


def resume_stalled() -> int:
    """Queue the next attempt of every pending notification that is overdue; one whose last
    allowed attempt was interrupted is failed, the interruption logged as that attempt."""
    from ..tasks import deliver_state_change

    overdue = list(StateChangeNotification.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__lt=timezone.now() - STALLED_AFTER,
    ).values_list("pk", "attempts", "max_attempts"))
    for pk, attempts, max_attempts in overdue:
        if attempts < max_attempts:
            deliver_state_change.delay(pk, attempts + 1)
        else:
            _fail_interrupted(pk, attempts)
    return len(overdue)


@transaction.atomic
def _fail_interrupted(pk: int, attempt: int) -> None:
    notification = (StateChangeNotification.objects.select_for_update(of=("self",))
                    .select_related("app", "environment").get(pk=pk))
    if notification.state != DeliveryState.PENDING or notification.attempts != attempt:
        return
    DeliveryAttempt.objects.get_or_create(notification=notification, number=attempt, defaults={
        "error": "Interrupted: the attempt was begun but its result was never recorded."})
    notification.state = DeliveryState.FAILED
    notification.next_attempt_at = None
    _report_failure(notification, live_configuration(notification.app, notification.environment))
    notification.save(update_fields=["state", "next_attempt_at", "failure_reported_at"])

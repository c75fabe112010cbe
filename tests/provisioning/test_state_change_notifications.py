"""State-change notifications and install/uninstall webhooks, delivered to a real HTTP receiver."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from accounts.models import User
from appstore.models import AppClient, ConfigurationVersion, VersionState
from provisioning.models import (
    Authorization,
    AuthorizationStatus,
    DeliveryState,
    StateChangeNotification,
)
from provisioning.services import authorizations
from provisioning.services.notifications import (
    attempt_budget,
    deliver,
    notify_app_event,
    notify_tenant_state_changed,
    redeliver,
    resume_stalled,
)
from tenants.models import Tenant
from tenants.signals import ChangeType, tenant_state_changed

from ..factories import AppFactory, PartnerMemberFactory, TenantFactory, TenantMemberFactory, environment

pytestmark = pytest.mark.django_db


def endpoint(url: str, *, enabled: bool = True, send_error_emails: bool = True) -> dict:
    return {"state_change": {"url": url, "enabled": enabled, "send_error_emails": send_error_emails}}


def make_app(url: str = "", *, enabled: bool = True, send_error_emails: bool = True, **kwargs):
    member = PartnerMemberFactory()
    endpoints = endpoint(url, enabled=enabled, send_error_emails=send_error_emails) if url else {}
    return AppFactory(partner=member.partner, technical_contact=member.user, configured__endpoints=endpoints,
                      **kwargs)


def authorize(app, tenant, **fields) -> Authorization:
    return Authorization.objects.create(app=app, tenant=tenant, approved_at=timezone.now(),
                                        system_user_token=f"{app.name}-{uuid.uuid4().hex[:10]}", **fields)


@pytest.fixture
def tenant():
    return TenantFactory(context_identifier="Cust30001", version_label="10.2.1",
                         public_endpoint="https://sod.crm.example/Cust30001")


def verified_claims(client, token: str, audience: str, env: str = "sod") -> dict:
    keys = KeySet.import_key_set(client.get(f"/{env}/login/.well-known/jwks").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(aud={"essential": True, "value": audience}, exp={"essential": True}).validate(
        decoded.claims)
    assert decoded.header["kid"] in {key["kid"] for key in keys.as_dict()["keys"]}
    return decoded.claims


def test_a_state_change_reaches_exactly_the_authorized_apps_with_the_endpoint_on(
        tenant, receiver, client, settings, django_capture_on_commit_callbacks):
    listening = make_app(f"{receiver.url}/listening")
    unauthorized = make_app(f"{receiver.url}/unauthorized")
    switched_off = make_app(f"{receiver.url}/off", enabled=False)
    other_environment = make_app()  # its endpoint is on in stage only
    ConfigurationVersion.objects.create(app=other_environment, environment=environment("stage"), label="1.0",
                                        state=VersionState.PUBLISHED, published_at=timezone.now(),
                                        endpoints=endpoint(f"{receiver.url}/stage"))
    uninstalled = make_app(f"{receiver.url}/uninstalled")
    expired = make_app(f"{receiver.url}/expired")
    for app in (listening, switched_off, other_environment):
        authorize(app, tenant)
    authorize(uninstalled, tenant, status=AuthorizationStatus.REVOKED)
    authorize(expired, tenant, valid_to=timezone.now() - timezone.timedelta(days=1))
    stage_tenant = TenantFactory(environment=environment("stage"))
    authorize(unauthorized, stage_tenant)

    with django_capture_on_commit_callbacks(execute=True):
        tenant_state_changed.send(sender=Tenant, tenant=tenant, change_type=ChangeType.SUSPEND, actor=None)

    [received] = receiver.requests
    assert received.path == "/listening"
    body = received.json()
    token = body.pop("Token")
    notification = StateChangeNotification.objects.get()
    occurred = notification.created_at.astimezone(UTC)
    assert body == {"ChangeType": 2, "ContextIdentifier": "Cust30001", "VersionName": "10.2.1",
                    "FileVersion": "10.2.1", "PublicEndpoint": "https://sod.crm.example/Cust30001",
                    "OccurredAt": occurred.isoformat(timespec="microseconds").replace("+00:00", "Z")}
    client_id = AppClient.objects.get(app=listening, environment__code="sod").client_id
    claims = verified_claims(client, token, client_id)
    assert claims["occurred_at"] == int(occurred.timestamp())
    assert claims["iss"] == f"{settings.SITE_URL}/sod"
    assert claims["ctx"] == "Cust30001" and claims["jti"] == str(notification.event_id)
    assert claims["exp"] - claims["iat"] == 300
    assert (notification.app, notification.state, notification.attempts) == (listening, "delivered", 1)
    assert "Token" not in notification.body
    [attempt] = notification.delivery_attempts.all()
    assert attempt.status_code == 200 and attempt.error == "" and attempt.url == f"{receiver.url}/listening"


def test_the_token_does_not_verify_for_another_audience(tenant, receiver, client,
                                                        django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    authorize(app, tenant)
    with django_capture_on_commit_callbacks(execute=True):
        notify_tenant_state_changed(tenant=tenant, change_type=ChangeType.UPGRADE)
    with pytest.raises(Exception, match="aud"):
        verified_claims(client, receiver.requests[0].json()["Token"], "someone-else")


def test_no_authorized_app_listening_creates_nothing(tenant, django_capture_on_commit_callbacks):
    authorize(make_app(), tenant)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify_tenant_state_changed(tenant=tenant, change_type=ChangeType.RESUME) == []
    assert callbacks == [] and not StateChangeNotification.objects.exists()


def queued(tenant, app, receiver, django_capture_on_commit_callbacks, change=ChangeType.UPGRADE):
    """A notification created and queued, its first task not run: the test makes each attempt."""
    authorize(app, tenant)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [notification] = notify_tenant_state_changed(tenant=tenant, change_type=change)
    assert len(callbacks) == 1
    return notification


def test_a_receiver_that_fails_twice_then_succeeds(tenant, receiver, settings,
                                                   django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETRY_DELAYS = [30, 120, 480]
    receiver.reply((500, b"oops"), (503, b"busy"))
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)

    first = deliver(notification_id=notification.pk, attempt=1)
    notification.refresh_from_db()
    assert (first.state, first.retry_in, notification.state) == ("pending", 30, "pending")
    assert 29 <= (notification.next_attempt_at - timezone.now()).total_seconds() <= 30
    assert deliver(notification_id=notification.pk, attempt=1) is None  # a repeated task does nothing
    second = deliver(notification_id=notification.pk, attempt=2)
    assert (second.state, second.retry_in) == ("pending", 120)
    third = deliver(notification_id=notification.pk, attempt=3)
    assert (third.state, third.retry_in) == ("delivered", None)

    notification.refresh_from_db()
    assert notification.state == DeliveryState.DELIVERED and notification.delivered_at is not None
    attempts = list(notification.delivery_attempts.values_list("number", "status_code", "error"))
    assert attempts == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, "")]
    assert len(receiver.requests) == 3
    assert {jti_of(r) for r in receiver.requests} == {str(notification.event_id)}
    assert mail.outbox == []


def jti_of(received) -> str:
    """The Token's jti, read without verifying (the other tests verify it)."""
    payload = received.json()["Token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def test_a_receiver_that_always_fails_stops_at_the_bound_and_mails_once(
        tenant, receiver, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETRY_DELAYS = [30, 120]
    receiver.default = (500, b"down")
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [deliver(notification_id=notification.pk, attempt=n) for n in (1, 2, 3, 4)]

    assert [o.state if o else None for o in outcomes] == ["pending", "pending", "failed", None]
    assert outcomes[2].retry_in is None
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.next_attempt_at) == ("failed", 3, None)
    assert notification.delivery_attempts.count() == 3 and len(receiver.requests) == 3
    [message] = mail.outbox
    assert message.to == [app.technical_contact.email]
    assert str(notification.event_id) in message.body and "Cust30001" in message.subject
    assert f"/portal/apps/{app.pk}/deliveries/" in message.body

    # A redelivery that fails again makes one more attempt and sends no second e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        redeliver(actor=app.technical_contact, notification=notification)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("failed", 4)
    assert len(mail.outbox) == 1 and len(receiver.requests) == 4


def test_no_failure_mail_when_the_endpoint_does_not_ask_for_it(tenant, receiver, settings,
                                                                django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETRY_DELAYS = []
    receiver.default = (404, b"")
    notification = queued(tenant, make_app(f"{receiver.url}/hook", send_error_emails=False), receiver,
                          django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(notification_id=notification.pk, attempt=1).state == "failed"
    assert mail.outbox == []


def test_redelivery_keeps_the_event_id(tenant, receiver, client, django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    deliver(notification_id=notification.pk, attempt=1)

    with django_capture_on_commit_callbacks(execute=True):
        redeliver(actor=app.technical_contact, notification=notification)

    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.max_attempts) == ("delivered", 2, 2)
    first, second = receiver.requests
    assert jti_of(first) == jti_of(second) == str(notification.event_id)
    client_id = AppClient.objects.get(app=app, environment__code="sod").client_id
    assert verified_claims(client, second.json()["Token"], client_id)["jti"] == str(notification.event_id)
    assert notification.delivery_attempts.count() == 2


def test_redelivery_is_refused_while_pending_and_without_the_configuration_permission(
        tenant, receiver, django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="being delivered already"):
        redeliver(actor=app.technical_contact, notification=notification)

    deliver(notification_id=notification.pk, attempt=1)
    reader = PartnerMemberFactory(partner=app.partner, can_configuration=False)
    stranger = PartnerMemberFactory()
    for user in (reader.user, stranger.user):
        with pytest.raises(PermissionDenied):
            redeliver(actor=user, notification=notification)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("delivered", 1)
    assert notification.max_attempts == attempt_budget()


def test_an_endpoint_switched_off_after_the_event_logs_a_failed_attempt(tenant, receiver,
                                                                       django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    switched_off = endpoint(f"{receiver.url}/hook", enabled=False)
    ConfigurationVersion.objects.filter(app=app).update(endpoints=switched_off)

    outcome = deliver(notification_id=notification.pk, attempt=1)

    assert outcome.state == "pending" and outcome.retry_in == 30
    assert outcome.attempt.error == "The customer state change endpoint is off in sod."
    assert receiver.requests == []


def test_an_authorization_that_no_longer_belongs_to_the_app_stops_delivery(
        tenant, receiver, django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    Authorization.objects.filter(pk=notification.authorization_id).update(app=make_app())

    outcome = deliver(notification_id=notification.pk, attempt=1)

    assert outcome.state == "failed" and "no longer belongs" in outcome.attempt.error
    assert receiver.requests == []


# ---------------------------------------------------------------- install and uninstall webhooks

def test_install_reapproval_and_uninstall_are_sent_to_that_app(tenant, receiver, client,
                                                               django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    bystander = make_app(f"{receiver.url}/bystander")
    authorize(bystander, tenant)
    admin = TenantMemberFactory(tenant=tenant, is_general_administrator=True)

    with django_capture_on_commit_callbacks(execute=True):
        authorization = authorizations.approve(app=app, tenant=tenant, user=admin.user, consent_text="ok")
    with django_capture_on_commit_callbacks(execute=True):
        authorizations.approve(app=app, tenant=tenant, user=admin.user, consent_text="ok")
    with django_capture_on_commit_callbacks(execute=True):
        authorizations.uninstall(authorization=authorization, user=admin.user)

    assert [r.path for r in receiver.requests] == ["/hook"] * 3
    assert [r.json()["ChangeType"] for r in receiver.requests] == [100, 101, 102]
    assert len({jti_of(r) for r in receiver.requests}) == 3
    assert list(StateChangeNotification.objects.order_by("pk").values_list("change_type", "state")) == [
        (ChangeType.INSTALLED, "delivered"), (ChangeType.REAPPROVED, "delivered"),
        (ChangeType.UNINSTALLED, "delivered")]


def test_install_with_the_endpoint_off_sends_nothing(tenant, receiver, django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook", enabled=False)
    admin = TenantMemberFactory(tenant=tenant, is_general_administrator=True)
    with django_capture_on_commit_callbacks(execute=True):
        authorizations.approve(app=app, tenant=tenant, user=admin.user, consent_text="ok")
    assert receiver.requests == [] and not StateChangeNotification.objects.exists()


def test_a_refused_install_sends_nothing(tenant, receiver, django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    member = TenantMemberFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(authorizations.ConsentRefused):
        authorizations.approve(app=app, tenant=tenant, user=member.user, consent_text="ok")
    assert receiver.requests == [] and not StateChangeNotification.objects.exists()


def test_an_overdue_attempt_is_queued_again_and_made_once(tenant, receiver,
                                                          django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    lost = queued(tenant, app, receiver, django_capture_on_commit_callbacks)  # its task never ran
    on_time = queued(TenantFactory(), make_app(f"{receiver.url}/other"), receiver,
                     django_capture_on_commit_callbacks)
    StateChangeNotification.objects.filter(pk=lost.pk).update(
        next_attempt_at=timezone.now() - timezone.timedelta(minutes=11))

    assert resume_stalled() == 1  # run eagerly: the attempt is made now

    lost.refresh_from_db()
    on_time.refresh_from_db()
    assert (lost.state, lost.attempts) == ("delivered", 1) and on_time.attempts == 0
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert resume_stalled() == 0


def test_the_stalled_sweep_is_scheduled():
    from django.conf import settings

    from config.celery import app as celery_app

    entry = settings.CELERY_BEAT_SCHEDULE["resume-stalled-notifications"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] <= 600


def test_an_interrupted_last_attempt_fails_the_event_once(tenant, receiver, settings,
                                                          django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETRY_DELAYS = []
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    # The worker claimed attempt 1 and stopped before recording it.
    StateChangeNotification.objects.filter(pk=notification.pk).update(
        attempts=1, next_attempt_at=timezone.now() - timezone.timedelta(minutes=11))

    with django_capture_on_commit_callbacks(execute=True):
        assert resume_stalled() == 1

    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.next_attempt_at) == ("failed", 1, None)
    [attempt] = notification.delivery_attempts.all()
    assert attempt.number == 1 and attempt.error.startswith("Interrupted")
    assert len(mail.outbox) == 1 and receiver.requests == []
    assert resume_stalled() == 0


def test_staff_read_notifications_and_their_attempts_in_the_admin(tenant, receiver,
                                                                  django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    deliver(notification_id=notification.pk, attempt=1)
    admin = Client()
    admin.force_login(User.objects.create_superuser(email="root@example.com", password="x-pass-123"))

    listing = admin.get("/admin/provisioning/statechangenotification/")
    page = admin.get(f"/admin/provisioning/statechangenotification/{notification.pk}/change/")

    assert listing.status_code == 200 and str(notification.event_id) in listing.text
    assert page.status_code == 200 and f"{receiver.url}/hook" in page.text
    assert admin.get("/admin/provisioning/statechangenotification/add/").status_code == 403


def test_an_upgrade_through_the_tenant_lifecycle_notifies_with_the_new_version(
        tenant, receiver, django_capture_on_commit_callbacks):
    from tenants.services import lifecycle

    authorize(make_app(f"{receiver.url}/hook"), tenant)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.upgrade_tenant(actor=None, tenant=tenant, version_label="10.4")

    [received] = receiver.requests
    assert (received.json()["ChangeType"], received.json()["VersionName"]) == (ChangeType.UPGRADE, "10.4")


def test_occurred_at_is_the_events_creation_and_stays_across_retries_and_redelivery(
        tenant, receiver, client, settings, django_capture_on_commit_callbacks):
    receiver.reply((500, b""))
    app = make_app(f"{receiver.url}/hook")
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    # Made an hour ago (an old event retried late): every attempt carries that time, not the signing time.
    made = timezone.now() - timedelta(hours=1)
    StateChangeNotification.objects.filter(pk=notification.pk).update(created_at=made)
    notification.body = {key: value for key, value in notification.body.items() if key != "OccurredAt"}
    notification.save(update_fields=["body"])  # stored before OccurredAt was sent
    deliver(notification_id=notification.pk, attempt=1)
    deliver(notification_id=notification.pk, attempt=2)
    notification.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        redeliver(actor=app.technical_contact, notification=notification)

    client_id = AppClient.objects.get(app=app, environment__code="sod").client_id
    stamps = {r.json()["OccurredAt"] for r in receiver.requests}
    claims = [verified_claims(client, r.json()["Token"], client_id) for r in receiver.requests]
    assert len(receiver.requests) == 3
    assert stamps == {made.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")}
    assert {c["occurred_at"] for c in claims} == {int(made.timestamp())}
    assert all(c["iat"] - c["occurred_at"] >= 3600 for c in claims)


def test_an_uninstall_made_after_an_install_has_the_later_occurred_at(tenant, receiver, client,
                                                                       django_capture_on_commit_callbacks):
    app = make_app(f"{receiver.url}/hook")
    authorization = authorize(app, tenant)
    installed = notify_app_event(authorization=authorization, change_type=ChangeType.INSTALLED)
    uninstalled = notify_app_event(authorization=authorization, change_type=ChangeType.UNINSTALLED)
    # Delivered out of order: the partner still sees which came first.
    deliver(notification_id=uninstalled.pk, attempt=1)
    deliver(notification_id=installed.pk, attempt=1)
    first, second = (datetime.fromisoformat(r.json()["OccurredAt"]) for r in receiver.requests)
    assert [r.json()["ChangeType"] for r in receiver.requests] == [102, 100]
    assert first > second


@pytest.mark.parametrize(("url", "reply", "expected"), [
    ("https://erp.acme.invalid/hook", None, "The host name erp.acme.invalid could not be resolved."),
    ("RECEIVER/hook", (302, b"", {"Location": "/moved?sig=1"}), "Redirects are not followed (answered 302 to "
                                                               "RECEIVER/moved)."),
    ("RECEIVER/hook", (500, b"oops"), "HTTP 500"),
])
def test_a_failed_attempt_logs_a_plain_error_for_the_partner(tenant, receiver, settings, url, reply, expected,
                                                             django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETRY_DELAYS = [30]
    if reply:
        receiver.reply(reply)
    app = make_app(url.replace("RECEIVER", receiver.url))
    notification = queued(tenant, app, receiver, django_capture_on_commit_callbacks)
    assert deliver(notification_id=notification.pk, attempt=1).state == "pending"
    [attempt] = notification.delivery_attempts.all()
    assert attempt.error == expected.replace("RECEIVER", receiver.url)

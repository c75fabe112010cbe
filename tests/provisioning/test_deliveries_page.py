"""The partner's delivery log of an app's state-change notifications, and redelivery from it."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from provisioning.models import Authorization, DeliveryAttempt, DeliveryState, StateChangeNotification
from provisioning.services.notifications import body_for
from tenants.signals import ChangeType

from ..factories import AppFactory, PartnerMemberFactory, TenantFactory

pytestmark = pytest.mark.django_db


def notification(app, tenant, *, change=ChangeType.UPGRADE, state=DeliveryState.DELIVERED, attempts=1,
                 minutes_ago=0) -> StateChangeNotification:
    authorization = (Authorization.objects.filter(app=app, tenant=tenant).first()
                     or Authorization.objects.create(app=app, tenant=tenant,
                                                     system_user_token=f"t-{uuid.uuid4().hex[:12]}"))
    created = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    event = StateChangeNotification.objects.create(
        app=app, tenant=tenant, authorization=authorization, environment=tenant.environment,
        change_type=change, body=body_for(tenant, change), state=state, attempts=attempts,
        max_attempts=attempts, created_at=created)
    for number in range(1, attempts + 1):
        last = number == attempts and state == DeliveryState.DELIVERED
        DeliveryAttempt.objects.create(notification=event, number=number, url="https://x.example/hook",
                                       status_code=200 if last else 502, duration_ms=40 + number,
                                       error="" if last else "HTTP 502")
    return event


def list_url(app, **query) -> str:
    url = reverse("portal-deliveries:list", args=[app.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner)


@pytest.fixture
def tenant():
    return TenantFactory(context_identifier="Cust40001")


def test_the_app_page_links_to_its_deliveries(partner_client, app):
    body = partner_client.get(reverse("portal:app", args=[app.pk])).text
    assert f'href="{list_url(app)}"' in body


def test_lists_notifications_newest_first_with_their_attempts(partner_client, app, tenant):
    older = notification(app, tenant, change=ChangeType.SUSPEND, state=DeliveryState.FAILED, attempts=2,
                         minutes_ago=10)
    newer = notification(app, TenantFactory(context_identifier="Cust40002"), change=ChangeType.INSTALLED)

    response = partner_client.get(list_url(app))

    body = response.text
    assert response.status_code == 200
    assert body.index(str(newer.event_id)) < body.index(str(older.event_id))
    assert "Installed" in body and "Suspend" in body and "Cust40001" in body and "Cust40002" in body
    assert "2 attempts" in body and "HTTP 502" in body and "41 ms" in body and "42 ms" in body
    assert body.count(">Redeliver<") == 2


def test_filters_by_state_and_change_type(partner_client, app, tenant):
    failed = notification(app, tenant, change=ChangeType.DELETE, state=DeliveryState.FAILED)
    delivered = notification(app, tenant, change=ChangeType.DELETE)
    other_type = notification(app, tenant, change=ChangeType.MOVE, state=DeliveryState.FAILED)

    body = partner_client.get(list_url(app, state="failed", change_type=int(ChangeType.DELETE))).text

    assert str(failed.event_id) in body
    assert str(delivered.event_id) not in body and str(other_type.event_id) not in body


def test_a_bad_filter_value_is_ignored_not_an_error(partner_client, app, tenant):
    event = notification(app, tenant)
    response = partner_client.get(list_url(app, state="nonsense", change_type="x"))
    assert response.status_code == 200 and str(event.event_id) in response.text


def test_pages_through_many_notifications(partner_client, app, tenant):
    events = [notification(app, tenant, minutes_ago=n) for n in range(30)]
    first = partner_client.get(list_url(app)).text
    second = partner_client.get(list_url(app, page=2)).text
    assert str(events[0].event_id) in first and str(events[29].event_id) not in first
    assert str(events[29].event_id) in second and "Page 2 of 2" in second


def test_the_query_count_does_not_grow_with_the_notifications(partner_client, app, tenant,
                                                               django_assert_num_queries):
    for n in range(2):
        notification(app, tenant, attempts=2, minutes_ago=n)
    with django_assert_num_queries(7) as few:
        partner_client.get(list_url(app))
    for n in range(2, 12):
        notification(app, TenantFactory(), attempts=3, minutes_ago=n)
    with django_assert_num_queries(len(few.captured_queries)):
        assert partner_client.get(list_url(app)).status_code == 200


def test_another_partner_neither_sees_nor_redelivers(client, app, tenant, other_partner_member):
    event = notification(app, tenant, state=DeliveryState.FAILED)
    client.force_login(other_partner_member.user)
    own_app = AppFactory(partner=other_partner_member.partner)

    assert client.get(list_url(app)).status_code == 404
    # Not through their own app's URL either.
    assert str(event.event_id) not in client.get(list_url(own_app)).text
    for app_id in (app.pk, own_app.pk):
        response = client.post(reverse("portal-deliveries:redeliver", args=[app_id, event.pk]))
        assert response.status_code == 404
    event.refresh_from_db()
    assert (event.state, event.max_attempts) == ("failed", 1)


def test_redeliver_queues_another_attempt_of_the_same_event(partner_client, app, tenant,
                                                             django_capture_on_commit_callbacks):
    event = notification(app, tenant, state=DeliveryState.FAILED, attempts=3)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = partner_client.post(reverse("portal-deliveries:redeliver", args=[app.pk, event.pk]))

    assert response.status_code == 302 and response["Location"] == list_url(app)
    assert len(callbacks) == 1
    event.refresh_from_db()
    assert (event.state, event.attempts, event.max_attempts) == ("pending", 3, 4)
    body = partner_client.get(list_url(app)).text
    assert f"Event {event.event_id} queued again for Cust40001." in body
    assert ">Redeliver<" not in body  # pending: nothing more to ask for


def test_redeliver_of_a_pending_event_is_refused_with_a_message(partner_client, app, tenant):
    event = notification(app, tenant, state=DeliveryState.PENDING)
    url = reverse("portal-deliveries:redeliver", args=[app.pk, event.pk])
    response = partner_client.post(url, follow=True)
    assert "being delivered already" in response.text
    event.refresh_from_db()
    assert (event.state, event.max_attempts) == ("pending", 1)


def test_redeliver_needs_the_configuration_permission(client, app, tenant):
    reader = PartnerMemberFactory(partner=app.partner, can_configuration=False)
    event = notification(app, tenant, state=DeliveryState.FAILED)
    client.force_login(reader.user)

    assert ">Redeliver<" not in client.get(list_url(app)).text
    assert client.post(reverse("portal-deliveries:redeliver", args=[app.pk, event.pk])).status_code == 403
    event.refresh_from_db()
    assert (event.state, event.max_attempts) == ("failed", 1)


def test_redeliver_needs_a_post_with_the_csrf_token(partner_member, app, tenant):
    event = notification(app, tenant, state=DeliveryState.FAILED)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(partner_member.user)
    url = reverse("portal-deliveries:redeliver", args=[app.pk, event.pk])

    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403
    event.refresh_from_db()
    assert event.state == "failed"

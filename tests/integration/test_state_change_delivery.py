"""A state-change notification delivered by a real Celery worker that takes its tasks from Redis."""

import threading
import uuid

import pytest
from celery.signals import task_postrun
from django.db import transaction
from django.utils import timezone

from provisioning.models import Authorization, StateChangeNotification
from provisioning.tasks import deliver_state_change
from tenants.models import Tenant
from tenants.signals import ChangeType, tenant_state_changed
from tests.factories import AppFactory, TenantFactory
from tests.http_receiver import start_receiver, stop_receiver

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    stop_receiver(server)


@pytest.fixture
def finished_attempts():
    """The (attempt, outcome) of each delivery task the worker finishes; ``done`` is set at the second."""
    finished: list[tuple[int, str]] = []
    done = threading.Event()

    def record(sender=None, args=(), retval=None, **kwargs) -> None:
        if getattr(sender, "name", None) == deliver_state_change.name:
            finished.append((args[1], retval))
            if args[1] == 2:
                done.set()

    task_postrun.connect(record, weak=False)
    yield finished, done
    task_postrun.disconnect(record)


def test_a_worker_delivers_and_retries_a_notification(receiver, settings, finished_attempts, real_worker):
    settings.NOTIFICATION_RETRY_DELAYS = [1]
    receiver.reply((503, b"starting up"))  # then the default 200
    app = AppFactory(configured__endpoints={"state_change": {
        "url": f"{receiver.url}/hook", "enabled": True, "send_error_emails": False}})
    tenant = TenantFactory()
    Authorization.objects.create(app=app, tenant=tenant, approved_at=timezone.now(),
                                 system_user_token=f"{app.name}-{uuid.uuid4().hex[:10]}")
    finished, done = finished_attempts

    with transaction.atomic():  # the first attempt is queued to Redis when this commits
        tenant_state_changed.send(sender=Tenant, tenant=tenant, change_type=ChangeType.MOVE, actor=None)

    assert done.wait(60), f"the retry did not run: {finished}"
    assert finished == [(1, "pending"), (2, "delivered")]
    notification = StateChangeNotification.objects.get()
    assert (notification.state, notification.attempts) == ("delivered", 2)
    assert list(notification.delivery_attempts.values_list("number", "status_code")) == [(1, 503), (2, 200)]
    assert [r.json()["ChangeType"] for r in receiver.requests] == [5, 5]

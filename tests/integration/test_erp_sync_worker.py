"""ERP sync carried out by a real Celery worker taking its tasks from Redis, and by a worker process
that is killed in the middle of a run: the next run goes on from where it was, without duplicates."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection as db
from django.utils import timezone

from crm_sandbox.models import Contact, Person
from integrations.erp.services import runs
from integrations.erp.tasks import run_sync, sync_tenant
from integrations.models import ErpConnection, ErpLink, RunKind, RunState, SyncRun
from tests.integrations.conftest import erp_world  # noqa: F401 - the fixture, over real HTTP
from tests.integrations.test_erp_sync import sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
def test_a_worker_syncs_a_connection_through_redis(erp_world, real_worker):  # noqa: F811
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001")
    run = runs.queue_run_now(connection=connection, kind=RunKind.FORCE)

    state = run_sync.delay(run.pk).get(timeout=120)

    assert state == RunState.SUCCEEDED
    run.refresh_from_db()
    assert (run.created, run.failed_records) == (9, 0)
    assert Contact.objects.count() == 3
    assert Person.objects.filter(contact__isnull=False).count() == 6


@pytest.mark.redis
def test_the_schedule_task_runs_the_tenants_due_connections_in_rank_order(erp_world, real_worker):  # noqa: F811
    people = erp_world.install("Cust10001")
    second = erp_world.connect("Cust10001", "test", persons=False)
    first = erp_world.connect("Cust10001", "demo", persons=False)
    ErpConnection.objects.filter(pk=first.pk).update(rank=1)
    ErpConnection.objects.filter(pk=second.pk).update(rank=2)

    states = sync_tenant.delay(people.tenant.pk).get(timeout=120)

    assert states == [RunState.SUCCEEDED, RunState.SUCCEEDED]
    ordered = list(SyncRun.objects.order_by("started_at").values_list("connection_id", "kind"))
    assert ordered == [(first.pk, RunKind.SCHEDULED), (second.pk, RunKind.SCHEDULED)]
    assert Contact.objects.count() == 3 + 2
    # Not due again until their interval has passed.
    assert sync_tenant.delay(people.tenant.pk).get(timeout=120) == []


def _database_url() -> str:
    s = db.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}:{port}/{s['NAME']}"


@pytest.mark.postgres
def test_a_worker_killed_mid_run_leaves_no_duplicates_and_the_next_run_resumes(
    erp_world, live_server  # noqa: F811
):
    erp_world.install("Cust10001")
    connection = erp_world.connect("Cust10001", persons=False)
    proxy = erp_world.crm_proxy("Cust10001", live_server.url)
    in_flight, release, forwarded = threading.Event(), threading.Event(), threading.Event()

    def hold(seen, forward):
        in_flight.set()
        release.wait(120)
        answer = forward()  # the CRM creates the contact after its worker is gone
        forwarded.set()
        return answer[0], answer[1]

    second_create = lambda s: s.method == "POST" and s.path.endswith("/v1/Contact") and s.number == 1  # noqa: E731
    proxy.when(second_create, hold, uses=1)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SITE_URL": live_server.url,
        "CRM_SANDBOX_LOGIN_URL": live_server.url,
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1",
        "INTEGRATION_RETRY_DELAYS": "0,0",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "erp_sync", str(connection.connection_id)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert in_flight.wait(120), "the worker never reached the CRM"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        release.set()
        if worker.poll() is None:
            worker.kill()
    assert forwarded.wait(60)
    dead = SyncRun.objects.get(connection=connection)
    assert dead.state == RunState.RUNNING  # it never got to say how it ended
    assert Contact.objects.count() == 2
    assert ErpLink.objects.filter(connection=connection, crm_id__isnull=True).count() == 1  # pending

    # The lease of the dead worker runs out; the next run takes over.
    expired = timezone.now() - timedelta(seconds=1)
    ErpConnection.objects.filter(pk=connection.pk).update(lock_expires_at=expired)
    proxy.rules.clear()
    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    dead.refresh_from_db()
    assert dead.state == RunState.INTERRUPTED
    assert Contact.objects.count() == 3
    links = ErpLink.objects.filter(connection=connection)
    assert links.count() == 3
    assert set(links.values_list("crm_id", flat=True)) == set(Contact.objects.values_list("pk", flat=True))

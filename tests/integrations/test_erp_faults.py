"""ERP sync when things go wrong: a handshake that does not hold, a connector that is down, answers
garbage or too much, a CRM API failing in the middle of a batch, a connector that forgot the
connection, two runs at once, records that break the contract. Each leaves the data consistent and
the run's outcome explained."""

import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django import db
from django.core import mail
from django.utils import timezone

from crm_sandbox.models import Contact
from examples.erp_connector import store
from integrations.erp.engine import execute
from integrations.erp.services import runs
from integrations.erp.services.connections import SetupRefused
from integrations.models import (
    CallTarget,
    ErpConnection,
    ErpLink,
    IntegrationCall,
    LogKind,
    RunKind,
    RunState,
    SyncLogEntry,
    SyncRun,
)
from tests.factories import UserFactory
from tests.provisioning.conftest import LoginApp

from .test_erp_sync import sync

pytestmark = pytest.mark.django_db(transaction=True)

DATA_OPERATIONS = ("/GetSupportedActorTypeFields", "/GetActorsByTimestamp", "/GetActorsByKeys",
                   "/SaveActors", "/CreateActor", "/SearchActors")


def connected(world, **kwargs) -> ErpConnection:
    world.install("Cust10001")
    return world.connect("Cust10001", persons=False, **kwargs)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def rewrite_reply(change):
    """A proxy action answering Authenticate with change(nonce, stamp, signature) -> reply."""

    def action(seen, forward):
        status, body, _headers = forward()
        answer = json.loads(body)
        nonce, stamp, signature = answer["Token"].split(".")
        answer["Token"] = change(nonce, stamp, signature)
        return status, json.dumps(answer).encode()

    return action


def assert_stopped_at_handshake(world, run, proxy, reason: str) -> None:
    assert run.state == RunState.FAILED
    assert run.error.startswith("Handshake failed:"), run.error
    assert reason in run.error
    assert not any(path in DATA_OPERATIONS for path in proxy.paths())
    assert not IntegrationCall.objects.filter(run=run, target=CallTarget.CRM).exists()
    assert not Contact.objects.exists()


# ---------------------------------------------------------------- handshake


def test_a_connector_expecting_another_audience_stops_the_run_at_the_handshake(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    settings_file = json.loads(erp_world.settings_path.read_text())
    erp_world.settings_path.write_text(json.dumps({**settings_file, "client_id": "someone-else"}))

    run = sync(erp_world, connection)

    assert_stopped_at_handshake(erp_world, run, proxy, "HTTP 401")
    assert proxy.paths() == ["/Authenticate"]


def test_a_reply_with_a_bad_signature_stops_the_run(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    flipped = {"A": "B", "B": "A"}
    proxy.when(
        lambda s: s.path == "/Authenticate",
        rewrite_reply(lambda n, t, sig: f"{n}.{t}.{flipped.get(sig[0], 'A')}{sig[1:]}"),
    )

    run = sync(erp_world, connection)

    assert_stopped_at_handshake(erp_world, run, proxy, "does not verify with the app's registered public key")


def test_a_reply_signed_with_a_key_the_app_did_not_register_stops_the_run(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    from cryptography.hazmat.primitives import serialization

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    signer = LoginApp(app=None, client=None, client_id="", secret="", private_pem=pem)
    proxy.when(lambda s: s.path == "/Authenticate", rewrite_reply(lambda n, t, _sig: signer.sign(n, t)))

    run = sync(erp_world, connection)

    assert_stopped_at_handshake(erp_world, run, proxy, "does not verify")


def test_an_app_without_a_registered_key_cannot_pass_the_handshake(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    erp_world.login.client.certificate.delete()

    run = sync(erp_world, connection)

    assert_stopped_at_handshake(erp_world, run, proxy, "no registered public key")


def test_an_expired_reply_stops_the_run(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    old = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y%m%d%H%M")
    proxy.when(
        lambda s: s.path == "/Authenticate",
        rewrite_reply(lambda n, _t, _sig: erp_world.login.sign(n, old)),
    )

    run = sync(erp_world, connection)

    assert_stopped_at_handshake(erp_world, run, proxy, "expired")


# ---------------------------------------------------------------- the connector misbehaves


def test_a_connector_that_is_down_is_tried_three_times_then_the_run_fails(erp_world, settings):
    connection = connected(erp_world)
    app = erp_world.login.app
    app.technical_contact = UserFactory(email="tech@acme-erp.example.com")
    app.save(update_fields=["technical_contact"])
    erp_world.point_endpoint(closed_port_url(), send_error_emails=True)
    mail.outbox.clear()

    run = sync(erp_world, connection)

    assert run.state == RunState.FAILED
    assert "Authenticate failed" in run.error
    calls = IntegrationCall.objects.filter(run=run, target=CallTarget.CONNECTOR)
    assert [c.operation for c in calls] == ["Authenticate"] * 3
    assert all(not c.ok and c.status_code is None for c in calls)
    # The technical contact hears of it, since the endpoint asks for error e-mails.
    assert [m.to for m in mail.outbox] == [["tech@acme-erp.example.com"]]
    assert run.error in mail.outbox[0].body
    assert "Cust10001" in mail.outbox[0].body


def test_no_error_mail_when_the_endpoint_does_not_ask_for_them(erp_world):
    connection = connected(erp_world)
    erp_world.point_endpoint(closed_port_url(), send_error_emails=False)
    mail.outbox.clear()

    assert sync(erp_world, connection).state == RunState.FAILED
    assert mail.outbox == []


def test_a_garbage_answer_fails_the_run_and_changes_nothing(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    proxy.when(lambda s: s.path == "/GetActorsByTimestamp", (200, b"<html>Service unavailable</html>"))

    run = sync(erp_world, connection)

    assert run.state == RunState.FAILED
    assert "GetActorsByTimestamp is not JSON" in run.error
    assert not Contact.objects.exists()
    assert not ErpLink.objects.exists()
    connection.refresh_from_db()
    assert connection.erp_timestamps == {}


def test_an_oversized_answer_is_cut_and_fails_the_run(erp_world, settings):
    settings.INTEGRATION_MAX_RESPONSE_BYTES = 64 * 1024
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    huge = json.dumps({"IsOk": True, "State": "Ok", "Actors": [], "Padding": "x" * 200_000}).encode()
    proxy.when(lambda s: s.path == "/GetActorsByTimestamp", (200, huge))

    run = sync(erp_world, connection)

    assert run.state == RunState.FAILED
    assert "larger than" in run.error
    assert not Contact.objects.exists()


def test_a_connector_that_forgot_the_connection_is_told_again_and_the_run_goes_on(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()
    with erp_world.erp() as erp, store.transaction(erp):
        assert store.delete_connection(erp, str(connection.connection_id))

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.created == 3
    assert proxy.paths().count("/SaveConnection") == 1
    with erp_world.erp() as erp:
        assert store.get_connection(erp, str(connection.connection_id)) is not None


def test_records_that_break_the_contract_are_skipped_one_by_one(erp_world):
    connection = connected(erp_world)
    proxy = erp_world.connector_proxy()

    def spoil(seen, forward):
        status, body, _headers = forward()
        answer = json.loads(body)
        actors = answer["Actors"]
        del actors[0]["ErpKey"]  # missing key
        actors[1]["FieldValues"]["Name"] = 42  # wrong type
        actors.append({**actors[2], "ActorType": "Spaceship", "ErpKey": "S-1"})  # unknown actor type
        actors.append({**actors[2], "ErpKey": "C-BAD", "LastModified": "yesterday"})  # bad timestamp
        return status, json.dumps(answer).encode()

    proxy.when(lambda s: s.path == "/GetActorsByTimestamp" and s.number == 0, spoil, uses=1)

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    assert (run.created, run.failed_records) == (1, 4)
    assert "4 record(s) were skipped" in run.error
    problems = list(
        SyncLogEntry.objects.filter(run=run, kind=LogKind.PROBLEM).values_list("message", flat=True)
    )
    assert len(problems) == 4
    assert any("no ErpKey" in p for p in problems)
    assert any("FieldValues is not an object of text values" in p for p in problems)
    assert any("'Spaceship'" in p for p in problems)
    assert any("LastModified" in p or "yesterday" in p for p in problems)
    # Only the sound record was applied; nothing half-way.
    assert Contact.objects.count() == 1
    assert ErpLink.objects.filter(connection=connection).count() == 1


def test_a_value_that_does_not_fit_its_field_type_skips_that_record(erp_world):
    connection = connected(erp_world)
    from integrations.models import Direction

    from .test_erp_sync import remap

    remap(erp_world, connection, "Customer", CreditLimit=("Number2", Direction.TO_CRM))
    proxy = erp_world.connector_proxy()

    def spoil(seen, forward):
        status, body, _headers = forward()
        answer = json.loads(body)
        answer["Actors"][0]["FieldValues"]["CreditLimit"] = "[F:lots]"
        return status, json.dumps(answer).encode()

    proxy.when(lambda s: s.path == "/GetActorsByTimestamp" and s.number == 0, spoil, uses=1)

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED
    assert (run.created, run.failed_records) == (2, 1)
    problem = SyncLogEntry.objects.get(run=run, kind=LogKind.PROBLEM)
    assert "Credit limit" in problem.message, problem.message


# ---------------------------------------------------------------- the CRM API fails


def test_a_crm_failure_in_the_middle_of_a_batch_fails_the_run_and_a_rerun_completes_without_duplicates(
    erp_world, live_server
):
    connection = connected(erp_world)
    proxy = erp_world.crm_proxy("Cust10001", live_server.url)
    proxy.when(
        lambda s: s.method == "POST" and s.path.endswith("/v1/Contact") and s.number >= 1, (503, b"{}")
    )

    failed = sync(erp_world, connection)

    assert failed.state == RunState.FAILED
    assert "HTTP 503" in failed.error
    assert Contact.objects.count() == 1
    assert ErpLink.objects.filter(connection=connection, crm_id__isnull=False).count() == 1
    connection.refresh_from_db()
    assert connection.erp_timestamps == {}  # the ERP's changes are read again next time

    proxy.rules.clear()
    rerun = sync(erp_world, connection)

    assert rerun.state == RunState.SUCCEEDED, rerun.error
    assert Contact.objects.count() == 3
    links = ErpLink.objects.filter(connection=connection)
    assert links.count() == 3
    assert set(links.values_list("crm_id", flat=True)) == set(Contact.objects.values_list("pk", flat=True))


def test_a_created_record_whose_answer_was_lost_is_adopted_not_created_twice(erp_world, live_server):
    connection = connected(erp_world)
    proxy = erp_world.crm_proxy("Cust10001", live_server.url)

    def lose_answer(seen, forward):
        forward()  # the CRM creates the contact, then the gateway fails
        return 504, b"gateway timeout"

    proxy.when(lambda s: s.method == "POST" and s.path.endswith("/v1/Contact"), lose_answer, uses=1)

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    assert Contact.objects.count() == 3
    assert ErpLink.objects.filter(connection=connection, crm_id__isnull=False).count() == 3
    assert len(set(ErpLink.objects.values_list("crm_id", flat=True))) == 3
    posts = [s for s in proxy.seen if s.method == "POST"]
    assert len(posts) == 3  # the lost one was found, not posted again


# ---------------------------------------------------------------- one run at a time


def scheduled(connection) -> SyncRun:
    """A run started by the schedule (the worker carries it out itself)."""
    run = runs.queue_run_now(connection=connection, kind=RunKind.SCHEDULED)
    execute(run.pk)
    run.refresh_from_db()
    return run


def test_a_second_trigger_while_a_run_holds_the_lock_is_skipped(erp_world):
    connection = connected(erp_world)
    token = runs.acquire(connection)

    skipped = scheduled(connection)

    assert skipped.state == RunState.SKIPPED
    assert "in progress" in skipped.error
    assert not Contact.objects.exists()
    runs.release(connection, token)
    assert sync(erp_world, connection).state == RunState.SUCCEEDED


def test_an_admin_asking_for_a_run_while_one_is_in_progress_is_told_so(erp_world):
    connection = connected(erp_world)
    admin = erp_world.tenants["Cust10001"].admin.user
    token = runs.acquire(connection)
    running = SyncRun.objects.create(connection=connection, tenant_id=connection.tenant_id,
                                     kind=RunKind.SCHEDULED, state=RunState.RUNNING)

    with pytest.raises(SetupRefused, match="A scheduled sync is running on this connection; ask again"):
        runs.request_run(user=admin, connection=connection, kind=RunKind.FORCE)
    assert list(connection.runs.all()) == [running]  # nothing queued behind the admin's back

    runs.release(connection, token)
    SyncRun.objects.filter(pk=running.pk).update(state=RunState.INTERRUPTED)
    queued = SyncRun.objects.create(connection=connection, tenant_id=connection.tenant_id,
                                    kind=RunKind.RESYNC)  # asked for, no worker has taken it yet
    with pytest.raises(SetupRefused, match="Resync from CRM is queued on this connection"):
        runs.request_run(user=admin, connection=connection, kind=RunKind.MANUAL)
    # The same run asked for twice before a worker took it is one run.
    assert runs.request_run(user=admin, connection=connection, kind=RunKind.RESYNC) == queued
    with pytest.raises(SetupRefused, match="Choose one of the runs"):
        runs.request_run(user=admin, connection=connection, kind="everything")
    # A run queued longer than a lease lost its task (a broker that forgot it): it is not in the way.
    SyncRun.objects.filter(pk=queued.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    assert runs.request_run(user=admin, connection=connection, kind=RunKind.MANUAL).kind == RunKind.MANUAL


def test_a_lock_left_by_a_dead_worker_is_taken_over_when_its_lease_runs_out(erp_world):
    connection = connected(erp_world)
    runs.acquire(connection)
    dead = SyncRun.objects.create(
        connection=connection, tenant_id=connection.tenant_id, kind=RunKind.SCHEDULED, state=RunState.RUNNING
    )
    expired = timezone.now() - timedelta(seconds=1)
    ErpConnection.objects.filter(pk=connection.pk).update(lock_expires_at=expired)

    run = sync(erp_world, connection)

    assert run.state == RunState.SUCCEEDED, run.error
    dead.refresh_from_db()
    assert dead.state == RunState.INTERRUPTED
    connection.refresh_from_db()
    assert connection.lock_token is None


def test_two_triggers_at_once_make_one_run(erp_world, live_server):
    connection = connected(erp_world)
    proxy = erp_world.crm_proxy("Cust10001", live_server.url)
    in_flight, release = threading.Event(), threading.Event()

    def hold(seen, forward):
        in_flight.set()
        release.wait(60)
        return forward()[:2]

    proxy.when(lambda s: s.method == "POST" and s.path.endswith("/v1/Contact"), hold, uses=1)
    first = runs.queue_run_now(connection=connection, kind=RunKind.FORCE)
    def work():
        try:
            execute(first.pk)
        finally:
            db.connection.close()  # this thread's own database connection

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert in_flight.wait(60)
        second = scheduled(connection)  # due while the first run is writing to the CRM
    finally:
        release.set()
        worker.join(60)

    first.refresh_from_db()
    assert second.state == RunState.SKIPPED
    assert first.state == RunState.SUCCEEDED, first.error
    assert Contact.objects.count() == 3
    assert ErpLink.objects.filter(connection=connection).count() == 3

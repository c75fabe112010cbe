"""The ERP sync in the benchmark: the reference ERP connector, an app whose sod ERP sync endpoint points
at it, and a tenant whose CRM is the CRM sandbox served by the benchmark's gunicorn.

Runs inside a configured Django against the benchmark database (bench/run.py), while gunicorn is up
(the connector fetches the platform's keys from it, the sandbox introspects the integration
service's tokens at it). ``prepare`` makes, once, a partner with one app and, on every run, a new key
pair for the app's sod client (the private key goes only to the connector's settings file), a fresh
ERP (``examples/erp_connector`` seeded in var/bench/erp/) and an empty sandbox for the tenant: the
tenant's sandbox rows and its earlier connections are deleted, then a connection is made as a tenant
admin makes one (configuration fields, auto-mapping, Customer and Person only) and activated.

``measure`` takes the figures with one Celery worker process (``--concurrency=1 -P solo``) that
consumes a queue of its own, so no other worker takes the runs and this worker takes no other work:

* the full first sync of every actor into the empty sandbox;
* the ceiling: the rate at which one process only reads every actor from the connector
  (``GetActorsByTimestamp`` paged as the engine pages it, the same field keys, nothing written);
* an incremental run after 1% of the ERP's records changed (a field and ``LastModified``).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import ensure_user
from appstore.models import App, AppClient, AppTemplate, ConfigurationVersion, Partner, VersionState
from appstore.services.apps import create_app
from appstore.services.credentials import certificate_of, delete_certificate, generate_certificate
from appstore.services.partners import create_partner
from bench.login import _usable_signing_key
from crm_sandbox.models import Contact, Person, SandboxTenant
from examples.erp_connector import store
from integrations.calls import CallRecorder
from integrations.erp.services import connections
from integrations.erp.services.runs import queue_run_now
from integrations.erp.services.target import connector_for
from integrations.models import ErpConnection, IntegrationCall, RunKind, RunState, SyncRun
from provisioning.models import Authorization
from provisioning.services.authorizations import approve
from provisioning.services.resource_servers import ensure_sandbox_resource_servers
from tenants.services import ensure_tenant, ensure_tenant_member

ENVIRONMENT = "sod"
PARTNER_NAME = "ERP Bench Partner"  # not "bench-…": bench/data.py deletes the partners named so
APP_NAME = "ERP Bench App"
FOUNDER_EMAIL = "founder@erp-bench.example.com"
REDIRECT = "https://erp-bench.example.com/callback"
CONTEXT = "Cust90002"
ADMIN_EMAIL = "admin@cust90002.example.com"
COMPANY_DATABASE = "bench"
ACTOR_TYPES = ("Customer", "Person")
QUEUE = "erp-bench"
CHANGED_SHARE = 100  # one record in a hundred changes before the incremental run
RUN_TIMEOUT = 3600.0


@dataclass
class ErpBench:
    connection_id: int
    authorization_id: int
    connector_url: str
    db_path: Path
    actors: int
    customers: int
    persons_per_customer: int


@dataclass
class SyncFigures:
    label: str
    actors: int
    seconds: float
    created: int = 0
    updated: int = 0
    failed: int = 0
    state: str = ""
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.actors / self.seconds if self.seconds > 0 else 0.0


# ---------------------------------------------------------------- processes

def _wait_for(url: str, process: subprocess.Popen, name: str, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{name} did not answer within {timeout:.0f} s; see {log_path}")
        time.sleep(0.2)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_connector(root: Path, settings_path: Path, db_path: Path, port: int, log_path: Path
                    ) -> tuple[str, subprocess.Popen]:
    """The reference connector as its own process (python -m examples.erp_connector)."""
    env = {**os.environ, "ERP_SETTINGS": str(settings_path), "ERP_DATABASE": str(db_path),
           "ERP_PORT": str(port), "ERP_SECRET_KEY": secrets.token_urlsafe(32)}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "examples.erp_connector"], cwd=root, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_for(f"{url}/log", process, "The ERP connector", log_path)
    return url, process


def start_worker(root: Path, bin_dir: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """One Celery worker process, one task at a time, on the benchmark's own queue."""
    command = [str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency=1", "-P", "solo",
               "-Q", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--loglevel", "WARNING"]
    with open(log_path, "w") as log:
        return subprocess.Popen(command, cwd=root, env={**os.environ, **env}, stdout=log,
                                stderr=subprocess.STDOUT)


# ---------------------------------------------------------------- the world

def _app(founder: User) -> App:
    partner = Partner.objects.filter(name=PARTNER_NAME).first()
    if partner is None:
        partner = create_partner(founder=founder, name=PARTNER_NAME, website="https://erp-bench.example.com")
    founder = User.objects.get(pk=founder.pk)  # without the permissions cached before the membership
    app = App.objects.filter(partner=partner, name=APP_NAME).first()
    if app is None:
        app = create_app(actor=founder, partner=partner, name=APP_NAME, template=AppTemplate.WEB,
                         redirect_urls=REDIRECT)
    return app


def _point_endpoint(app: App, url: str) -> None:
    """The app's live sod ERP sync endpoint at the connector (http://127.0.0.1 is a development URL)."""
    version = ConfigurationVersion.objects.get(app=app, environment__code=ENVIRONMENT,
                                               state=VersionState.PUBLISHED, superseded_at__isnull=True)
    endpoints = dict(version.endpoints or {})
    endpoints["erp_sync"] = {"url": url, "enabled": True, "send_error_emails": False}
    ConfigurationVersion.objects.filter(pk=version.pk).update(endpoints=endpoints)


def _empty_tenant(authorization: Authorization) -> None:
    """Forget earlier runs: the tenant's connections (links, runs, log) and its sandbox rows."""
    tenant = authorization.tenant
    IntegrationCall.objects.filter(tenant=tenant).delete()
    ErpConnection.objects.filter(tenant=tenant).delete()
    SandboxTenant.objects.filter(environment_code=ENVIRONMENT, context_identifier=CONTEXT).delete()


def prepare(*, root: Path, base_url: str, connector_port: int, customers: int, persons_per_customer: int,
            processes: list[subprocess.Popen], progress: Callable[[str], None]) -> ErpBench:
    work = root / "var" / "bench" / "erp"
    work.mkdir(parents=True, exist_ok=True)
    founder = ensure_user(email=FOUNDER_EMAIL, password=secrets.token_urlsafe(24),
                          full_name="ERP Bench Founder")
    app = _app(founder)
    founder = User.objects.get(pk=founder.pk)
    client = AppClient.objects.select_related("environment").get(app=app, environment__code=ENVIRONMENT)
    if certificate_of(client) is not None:
        delete_certificate(actor=founder, client=client)
    _, private_pem, _ = generate_certificate(actor=founder, client=client, description="ERP benchmark",
                                             expires_at=timezone.now() + timedelta(days=30))
    settings_path = work / "connector.json"
    settings_path.write_text(json.dumps({"issuer": f"{base_url}/{ENVIRONMENT}", "client_id": client.client_id,
                                         "private_key_pem": private_pem}))
    settings_path.chmod(0o600)

    db_path = work / "erp.sqlite3"
    started = time.monotonic()
    store.seed(db_path, customers=customers, persons_per_customer=persons_per_customer,
               company_database=COMPANY_DATABASE, display_name="ERP benchmark")
    erp = store.connect(db_path)
    try:
        actors = sum(erp.execute(f"SELECT COUNT(*) FROM {table} WHERE company_db = ?",  # noqa: S608
                                 (COMPANY_DATABASE,)).fetchone()[0] for table in ("companies", "persons"))
    finally:
        erp.close()
    progress(f"ERP: seeded {actors} actors ({customers} customers, {persons_per_customer} persons each) "
             f"in {time.monotonic() - started:.1f} s.")
    connector_url, connector = start_connector(root, settings_path, db_path, connector_port,
                                               root / "var" / "bench" / "erp-connector.log")
    processes.append(connector)
    _point_endpoint(app, connector_url)

    ensure_sandbox_resource_servers()
    tenant = ensure_tenant(environment_code=ENVIRONMENT, context_identifier=CONTEXT,
                           company_name="ERP Bench Customer AS", serial=90002)
    tenant.webapi_url = f"{base_url}/sandbox/{ENVIRONMENT}/{CONTEXT}/api/"
    tenant.save(update_fields=["webapi_url"])
    _usable_signing_key(tenant.environment)
    admin = ensure_user(email=ADMIN_EMAIL, password=secrets.token_urlsafe(24), full_name="ERP Bench Admin")
    ensure_tenant_member(tenant=tenant, user=admin, is_admin=True)
    admin = User.objects.get(pk=admin.pk)
    authorization = Authorization.objects.filter(app=app, tenant=tenant).first()
    if authorization is None or not authorization.is_usable:
        authorization = approve(app=app, tenant=tenant, user=admin, consent_text="ERP benchmark.")
    _empty_tenant(authorization)

    fields = connections.config_fields(user=admin, authorization=authorization)
    values = connections.clean_config(fields, {"CompanyDatabase": COMPANY_DATABASE})
    connection = connections.create_connection(user=admin, authorization=authorization, name="ERP benchmark",
                                               values=values, fields=fields)
    connection.actor_mappings.exclude(actor_type__in=ACTOR_TYPES).update(enabled=False)
    connections.activate(user=admin, connection=connection)
    return ErpBench(connection_id=connection.pk, authorization_id=authorization.pk,
                    connector_url=connector_url, db_path=db_path, actors=actors, customers=customers,
                    persons_per_customer=persons_per_customer)


# ---------------------------------------------------------------- measuring

def _queue(bench: ErpBench) -> SyncRun:
    from integrations.erp.tasks import run_sync

    connection = ErpConnection.objects.get(pk=bench.connection_id)
    with transaction.atomic():
        run = queue_run_now(connection=connection, kind=RunKind.MANUAL)
    run_sync.apply_async((run.pk,), queue=QUEUE)
    return run


def _wait(run: SyncRun, progress: Callable[[str], None], worker: subprocess.Popen | None) -> SyncRun:
    deadline = time.monotonic() + RUN_TIMEOUT
    shown = time.monotonic()
    while True:
        run.refresh_from_db()
        if run.state not in (RunState.QUEUED, RunState.RUNNING):
            return run
        if worker is not None and worker.poll() is not None:
            sys.exit(f"The Celery worker exited with {worker.returncode}; see var/bench/erp-worker.log")
        if time.monotonic() > deadline:
            sys.exit(f"ERP sync run {run.pk} did not finish within {RUN_TIMEOUT:.0f} s.")
        if time.monotonic() - shown >= 10:
            shown = time.monotonic()
            progress(f"    run {run.pk}: {run.state}, {run.phase or '-'}, {run.processed}/{run.total}")
        time.sleep(0.25)


def _figures(label: str, run: SyncRun) -> SyncFigures:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.started_at else 0.0
    return SyncFigures(label=label, actors=run.processed, seconds=seconds, created=run.created,
                       updated=run.updated, failed=run.failed_records, state=run.state, error=run.error or "",
                       extra={"run_id": run.pk, "total": run.total, "pushed": run.pushed})


def fetch_ceiling(bench: ErpBench) -> SyncFigures:
    """Only read every actor from the connector, as the engine pages it; nothing is written but the
    call records (which the engine writes too)."""
    from integrations.erp.engine import PAGE

    connection = ErpConnection.objects.select_related("authorization__tenant__environment",
                                                      "authorization__app").get(pk=bench.connection_id)
    authorization = connection.authorization
    keys = {mapping.actor_type: [f.erp_field for f in mapping.fields.all() if f.crm_field]
            for mapping in connection.actor_mappings.filter(enabled=True).prefetch_related("fields")}
    recorder = CallRecorder(app_id=authorization.app_id, tenant_id=authorization.tenant_id,
                            connection_id=connection.pk)
    started = time.monotonic()
    client = connector_for(authorization, recorder, connection)
    fetched, calls = 0, 0
    try:
        client.authenticate()
        for actor_type in ACTOR_TYPES:
            skip = 0
            while True:
                page = client.call("GetActorsByTimestamp", {"ActorType": actor_type, "Timestamp": None,
                                                            "FieldKeys": keys.get(actor_type, []),
                                                            "Skip": skip, "Take": PAGE})["Actors"]
                calls += 1
                fetched += len(page)
                if len(page) < PAGE:
                    break
                skip += len(page)
    finally:
        client.close()
        recorder.flush()
    return SyncFigures(label="connector read only (ceiling)", actors=fetched,
                       seconds=time.monotonic() - started, extra={"calls": calls, "page": PAGE})


def change_share(bench: ErpBench) -> int:
    """Change one ERP record in a hundred: a mapped field and LastModified (now)."""
    stamp = store.utc_now()
    erp = store.connect(bench.db_path)
    try:
        with store.transaction(erp):
            companies = erp.execute(
                "UPDATE companies SET department = 'Changed ' || id, last_modified = ? "
                "WHERE company_db = ? AND id % ? = 0", (stamp, COMPANY_DATABASE, CHANGED_SHARE)).rowcount
            persons = erp.execute(
                "UPDATE persons SET title = 'Changed ' || id, last_modified = ? "
                "WHERE company_db = ? AND id % ? = 0", (stamp, COMPANY_DATABASE, CHANGED_SHARE)).rowcount
    finally:
        erp.close()
    return companies + persons


def crm_counts() -> dict[str, int]:
    tenant = SandboxTenant.objects.filter(environment_code=ENVIRONMENT, context_identifier=CONTEXT).first()
    if tenant is None:
        return {"contacts": 0, "persons": 0}
    return {"contacts": Contact.objects.filter(tenant=tenant).count(),
            "persons": Person.objects.filter(tenant=tenant).count()}


def measure(bench: ErpBench, *, worker: subprocess.Popen,
            progress: Callable[[str], None]) -> list[SyncFigures]:
    progress(f"  full first sync of {bench.actors} actors into the empty sandbox of {CONTEXT}...")
    wall = time.monotonic()
    first = _figures("full first sync", _wait(_queue(bench), progress, worker))
    first.extra.update(wall_seconds=round(time.monotonic() - wall, 2), crm=crm_counts())
    progress(f"  {first.label}: {first.actors} actors in {first.seconds:.1f} s ({first.rate:.1f}/s), "
             f"{first.state}")

    progress("  ceiling: reading every actor from the connector, nothing written...")
    ceiling = fetch_ceiling(bench)
    progress(f"  {ceiling.label}: {ceiling.actors} actors in {ceiling.seconds:.1f} s ({ceiling.rate:.1f}/s)")

    changed = change_share(bench)
    progress(f"  incremental run after changing {changed} ERP records...")
    wall = time.monotonic()
    incremental = _figures(f"incremental ({changed} changed)", _wait(_queue(bench), progress, worker))
    incremental.extra.update(changed=changed, wall_seconds=round(time.monotonic() - wall, 2))
    progress(f"  {incremental.label}: {incremental.actors} actors in {incremental.seconds:.1f} s "
             f"({incremental.rate:.1f}/s), {incremental.updated} updated, {incremental.state}")
    return [first, ceiling, incremental]


def profile_first_sync(bench: ErpBench, progress: Callable[[str], None],
                       top: int = 30) -> tuple[SyncFigures, str]:
    """The full first sync in this process under cProfile (no worker): the figures and the top costs."""
    from integrations.erp.engine import execute

    connection = ErpConnection.objects.get(pk=bench.connection_id)
    run = queue_run_now(connection=connection, kind=RunKind.MANUAL)
    profiler = cProfile.Profile()
    progress(f"  profiling the full first sync of {bench.actors} actors in this process...")
    profiler.enable()
    execute(run.pk)
    profiler.disable()
    run.refresh_from_db()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return _figures("full first sync (in process, profiled)", run), out.getvalue()

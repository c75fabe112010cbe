"""Benchmark the App Store under gunicorn with 1,000 published apps in PostgreSQL, the login
service's token endpoint (code exchange, refresh) and introspection, and the ERP sync, in one run.

    make bench                      (or .venv/bin/python bench/run.py --help)
    .venv/bin/python bench/run.py --only erp                    (one section: store, login or erp)
    .venv/bin/python bench/run.py --only erp --erp-customers 300   (a smaller ERP to try it)

The data lives in its own database (``<name>_bench`` next to DATABASE_URL's, by default
``platform_bench`` on the local server), created when missing; the development and test
databases are never touched. Results are printed as a table and saved in bench-results/.

The ERP sync section (bench/erp.py) seeds the reference ERP connector (examples/erp_connector, its
SQLite file in var/bench/erp/) with 3,334 customers of two persons each (10,002 actors), runs the
connector as its own process, and makes an app whose sod ERP sync endpoint points at it, installed
in tenant Cust90002 whose CRM is the CRM sandbox served by the benchmark's gunicorn, with an active
connection. One Celery worker process (``celery -A config worker --concurrency=1 -P solo`` on a queue
of its own, with Redis when REDIS_URL is set, else the file broker in var/bench) carries out the
runs. It reports, in actors per second:

* the full first sync of every actor into the tenant's empty sandbox (the run's own start and end);
* the ceiling: the same actors only read from the connector by one process (GetActorsByTimestamp
  paged as the engine pages it, nothing written);
* an incremental run after 1% of the ERP's records changed (a mapped field and LastModified).

``--erp-profile`` runs the full first sync in the benchmark's own process under cProfile instead,
and prints where the time goes.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://platform:platform@127.0.0.1:5432/platform"
TRIVIAL = "/healthz"
SECTIONS = ("store", "login", "erp")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="load time per URL (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--apps", type=int, default=1000, help="published apps to load (default 1000)")
    parser.add_argument("--reload", action="store_true", help="reload the apps even if already there")
    parser.add_argument("--python-client", action="store_true", help="use the Python client, not wrk")
    parser.add_argument("--skip-login", action="store_true",
                        help="skip the login service's token endpoint and introspection")
    parser.add_argument("--skip-erp", action="store_true", help="skip the ERP sync")
    parser.add_argument("--only", choices=SECTIONS, help="run only this section")
    parser.add_argument("--erp-customers", type=int, default=3334,
                        help="ERP customers to sync (default 3334: 10,002 actors with two persons each)")
    parser.add_argument("--erp-persons", type=int, default=2, help="persons per ERP customer (default 2)")
    parser.add_argument("--erp-profile", action="store_true",
                        help="run the full ERP sync in this process under cProfile, without a worker")
    args = parser.parse_args()
    if args.erp_customers < 1 or args.erp_persons < 0:
        parser.error("--erp-customers must be at least 1 and --erp-persons at least 0")
    return args


def sections(args: argparse.Namespace) -> set[str]:
    chosen = {args.only} if args.only else set(SECTIONS)
    if args.skip_login:
        chosen.discard("login")
    if args.skip_erp:
        chosen.discard("erp")
    return chosen


# ---------------------------------------------------------------- database

def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else DATABASE_URL (or the local default) with ``_bench`` on its name."""
    if os.environ.get("BENCH_DATABASE_URL"):
        url = os.environ["BENCH_DATABASE_URL"]
    else:
        base = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        name = base.path.lstrip("/") or "platform"
        url = urlunsplit(base._replace(path=f"/{name.removesuffix('_bench')}_bench"))
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"The benchmark needs PostgreSQL; {parts.scheme}:// is not supported.")
    if parts.path.lstrip("/").startswith("test_"):
        sys.exit("Refusing to use a test database for the benchmark.")
    return url


def _start_local_postgres() -> None:
    """Start the packaged cluster, as .ci/run does, when the server is local and down."""
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        return
    version = sorted((p.name for p in clusters.iterdir()), key=lambda v: [int(x) for x in v.split(".")])[-1]
    print(f"Starting the local PostgreSQL {version} cluster...")
    subprocess.run(["pg_ctlcluster", version, "main", "start"], check=False, capture_output=True)


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_urls = [urlunsplit(parts._replace(path=f"/{db}"))
                  for db in (name.removesuffix("_bench"), "postgres")]
    deadline = time.monotonic() + 30
    started = False
    while True:
        errors = []
        for admin_url in admin_urls:
            try:
                with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                        print(f"Created database {name}.")
                    return
            except psycopg.OperationalError as exc:
                errors.append(str(exc).strip().splitlines()[0])
        if not started and parts.hostname in ("127.0.0.1", "localhost"):
            _start_local_postgres()
            started = True
        if time.monotonic() > deadline:
            sys.exit(f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port or 5432}: {errors[-1]}")
        time.sleep(1)


# ---------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, port: int, *, local_partners: bool = False) -> dict[str, str]:
    """Production-like settings; var/bench keeps static and media files apart from development.
    ``local_partners``: partner endpoints on 127.0.0.1 (the ERP connector) may be called."""
    local = ({"OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1", "ALLOW_PRIVATE_PARTNER_URLS": "1"}
             if local_partners else {})
    return {
        **local,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
    }


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--log-level", "warning"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                sys.exit(f"gunicorn exited with {process.returncode}; see {log_path}")
            try:
                if status_of(base + TRIVIAL) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer {TRIVIAL} within 30 s; see {log_path}")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- main

def main() -> None:
    args = parse_args()
    chosen = sections(args)
    sys.path.insert(0, str(ROOT))
    database_url = bench_database_url()
    database_name = urlsplit(database_url).path.lstrip("/")
    ensure_database(database_url)
    port = free_port()
    env = server_environment(database_url, port, local_partners="erp" in chosen)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    from appstore.models import ListingVersion
    from bench import data, login
    from bench.loadgen import measure, tool_name

    started = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    urls = []
    if "store" in chosen:
        if args.reload or data.bench_app_count() != args.apps:
            t0 = time.monotonic()
            data.load(count=args.apps)
            print(f"Loaded {args.apps} published apps in {time.monotonic() - t0:.1f} s.")
        else:
            print(f"Reusing the {args.apps} published apps already in {database_name}.")
    login_bench = None
    if "login" in chosen:
        login_bench = login.prepare()
        print(f"Login service: {login.APP_NAME} with a {login.ENVIRONMENT} client and a new secret, "
              f"approved in tenant {login.CONTEXT}.")
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give a live database
    if "store" in chosen:
        top = (ListingVersion.objects
               .filter(app__partner__seo_name__startswith=data.PREFIX, state="published")
               .select_related("app__partner").order_by("-app__install_count", "pk").first())
        app_page = reverse("store:app", args=[top.app.partner.seo_name, top.app.seo_name])
        urls = [TRIVIAL, "/", "/apps/?q=sync", "/apps/?q=sync&category=erp&price=paid", app_page]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    connections.close_all()

    tool = tool_name(args.python_client)
    if urls:
        print(f"Store benchmark: {args.apps} live apps in PostgreSQL database {database_name}; gunicorn with "
              f"{args.workers} sync workers, DEBUG=0, cache {cache}; {tool} with {args.connections} "
              f"connections" + (f" on {args.threads} thread(s)" if tool == "wrk" else "")
              + f", {args.seconds} s per URL; {os.cpu_count()} CPUs.")
    log_path = ROOT / "var" / "bench" / "gunicorn.log"
    rows = []
    login_run = None
    erp_run = None
    with gunicorn(env, port, args.workers, log_path) as base:
        for url in urls:
            status = status_of(base + url)
            for _ in range(20):  # warm up every worker's connections and caches
                status_of(base + url)
            result = measure(base + url, seconds=args.seconds, connections=args.connections,
                             threads=args.threads, force_python=args.python_client)
            rows.append((url, status, result))
            print(f"  measured {url} ({result.rps:.0f} req/s)", flush=True)
        if login_bench is not None:
            print(f"Login service benchmark: the Python client of bench/loadgen.py with {args.connections} "
                  f"connections, {args.seconds} s per row, every code and refresh token used once.",
                  flush=True)
            login_run = login.measure(base, login_bench, seconds=args.seconds, connections=args.connections,
                                      progress=lambda line: print(line, flush=True))
        if "erp" in chosen:
            erp_run = erp_section(args, env, base, database_name, cache)

    lines = []
    if rows:
        ceiling = rows[0][2].rps or 1.0
        width = max(len(url) for url, _, _ in rows)
        if login_run:
            width = max(width, *(len(row.label) for row in [login_run.ceiling, *login_run.rows]))
        lines.append(f"{'URL'.ljust(width)}  status      rps   p50 ms   p95 ms  errors  "
                     f"rps ratio to {TRIVIAL}")
        for url, status, r in rows:
            lines.append(f"{url.ljust(width)}  {status:>6}  {r.rps:>7.1f}  {r.p50_ms:>7.1f}  {r.p95_ms:>7.1f}"
                         f"  {r.errors:>6}  {r.rps / ceiling:>8.3f}")
    login_rows = [login_run.ceiling, *login_run.rows] if login_run else []
    login_ceiling = (login_run.ceiling.result.rps or 1.0) if login_run else 1.0
    if login_run:
        width = max(len(row.label) for row in login_rows)
        if rows:
            width = max(width, *(len(url) for url, _, _ in rows))
        else:
            lines.append(f"{'Request'.ljust(width)}  status      rps   p50 ms   p95 ms  errors  rps ratio")
        lines.append(f"-- login service: Python client (bench/loadgen.py) for every row below, POST form "
                     f"bodies; ratio to the Python client's {TRIVIAL}; a status other than 200 is an error")
        for row in login_rows:
            r = row.result
            lines.append(f"{row.label.ljust(width)}  {r.status:>6}  {r.rps:>7.1f}  {r.p50_ms:>7.1f}"
                         f"  {r.p95_ms:>7.1f}  {r.errors:>6}  {r.rps / login_ceiling:>8.3f}"
                         + ("  (ran out of codes/tokens)" if r.exhausted else ""))
    if erp_run:
        lines += [""] * bool(lines) + erp_table(erp_run)
    print("\n" + "\n".join(lines))
    if login_run:
        u = login_run.usage
        print(f"\nLogin service: {u['codes_minted']} codes minted, {u['codes_measured']} of them exchanged "
              f"while measured; {u['refresh_tokens_measured']} refresh tokens used once each while measured "
              f"(from {u['codes_for_refresh_tokens']} codes exchanged beforehand, each refresh's new token "
              f"queued for a later request); one access token introspected "
              f"{u['introspections_measured']} times.")
    if erp_run and erp_run.get("profile"):
        print("\nERP sync profile (cProfile, the full first sync in this process):\n" + erp_run["profile"])
    print(f"\nTotal time {time.monotonic() - started:.0f} s.")

    results_dir = ROOT / "bench-results"
    results_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results_dir / f"bench-{stamp}.json").write_text(json.dumps({
        "at": stamp, "sections": sorted(chosen), "apps": args.apps, "database": database_name,
        "workers": args.workers, "connections": args.connections, "seconds": args.seconds, "tool": tool,
        "cache": cache, "cpus": os.cpu_count(), "python": platform.python_version(),
        "results": [{"url": url, "status": status, "rps": round(r.rps, 1), "p50_ms": round(r.p50_ms, 2),
                     "p95_ms": round(r.p95_ms, 2), "errors": r.errors, "requests": r.requests,
                     "ratio_to_trivial": round(r.rps / (rows[0][2].rps or 1.0), 4)}
                    for url, status, r in rows],
        **({"login": {
            "tool": "python", "ceiling": login_run.ceiling.label, "usage": login_run.usage,
            "results": [{"label": row.label, "status": row.result.status, "rps": round(row.result.rps, 1),
                         "p50_ms": round(row.result.p50_ms, 2), "p95_ms": round(row.result.p95_ms, 2),
                         "errors": row.result.errors, "requests": row.result.requests,
                         "ran_out": row.result.exhausted,
                         "ratio_to_trivial": round(row.result.rps / login_ceiling, 4)} for row in login_rows],
        }} if login_run else {}),
        **({"erp": {key: value for key, value in erp_run.items() if key != "figures"}} if erp_run else {}),
    }, indent=2))


def erp_section(args: argparse.Namespace, env: dict[str, str], base: str, database_name: str,
                cache: str) -> dict:
    """Prepare the ERP world against the running gunicorn and measure the sync (bench/erp.py)."""
    from django.conf import settings
    from django.db import connections

    from bench import erp

    def progress(line: str) -> None:
        print(line, flush=True)

    broker = "Redis" if settings.REDIS_URL else "the file broker in var/bench/broker"
    processes: list[subprocess.Popen] = []
    try:
        world = erp.prepare(root=ROOT, base_url=base, connector_port=free_port(),
                            customers=args.erp_customers, persons_per_customer=args.erp_persons,
                            processes=processes, progress=progress)
        how = ("the benchmark's own process under cProfile" if args.erp_profile else
               f"one Celery worker process (--concurrency=1 -P solo, queue {erp.QUEUE}, {broker})")
        progress(f"ERP sync benchmark: {world.actors} actors from the reference connector "
                 f"({world.connector_url}) "
                 f"into the CRM sandbox of {erp.CONTEXT} on gunicorn ({args.workers} sync workers, cache "
                 f"{cache}, PostgreSQL database {database_name}); runs carried out by {how}; "
                 f"{os.cpu_count()} CPUs.")
        profile = ""
        if args.erp_profile:
            first, profile = erp.profile_first_sync(world, progress)
            figures = [first, erp.fetch_ceiling(world)]
        else:
            connections.close_all()
            worker = erp.start_worker(ROOT, BIN, env, ROOT / "var" / "bench" / "erp-worker.log")
            processes.append(worker)
            figures = erp.measure(world, worker=worker, progress=progress)
    finally:
        for process in reversed(processes):
            erp.stop_process(process)
    ceiling = next((f for f in figures if f.label.startswith("connector")), None)
    return {
        "actors": world.actors, "customers": world.customers,
        "persons_per_customer": world.persons_per_customer,
        "runner": "in-process, cProfile" if args.erp_profile else "celery worker --concurrency=1 -P solo",
        "broker": "redis" if settings.REDIS_URL else "filesystem",
        "results": [{"label": f.label, "actors": f.actors, "seconds": round(f.seconds, 2),
                     "actors_per_second": round(f.rate, 1), "created": f.created, "updated": f.updated,
                     "failed_records": f.failed, "state": f.state, "error": f.error[:500],
                     "ratio_to_ceiling": (round(f.rate / ceiling.rate, 4) if ceiling and ceiling.rate
                                          else None),
                     **f.extra} for f in figures],
        "figures": figures,
        **({"profile": profile} if profile else {}),
    }


def erp_table(erp_run: dict) -> list[str]:
    figures = erp_run["figures"]
    ceiling = next((f for f in figures if f.label.startswith("connector")), None)
    width = max(len("ERP sync"), *(len(f.label) for f in figures))
    lines = [f"{'ERP sync'.ljust(width)}  actors   seconds  actors/s  created  updated  failed  "
             "ratio to ceiling"]
    for f in figures:
        ratio = f"{f.rate / ceiling.rate:>8.3f}" if ceiling and ceiling.rate else "       -"
        state = f"  {f.state}" if f.state not in ("", "succeeded") else ""
        lines.append(f"{f.label.ljust(width)}  {f.actors:>6}  {f.seconds:>8.1f}  {f.rate:>8.1f}"
                     f"  {f.created:>7}  {f.updated:>7}  {f.failed:>6}  {ratio}{state}")
    lines.append(f"-- {erp_run['actors']} ERP actors ({erp_run['customers']} customers with "
                 f"{erp_run['persons_per_customer']} persons each); runs by {erp_run['runner']}; "
                 "seconds of a run are its own start to end; the ceiling only reads from the connector")
    return lines


if __name__ == "__main__":
    main()

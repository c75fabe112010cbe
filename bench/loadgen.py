"""Drive one URL for a fixed time: wrk when installed, else a small threaded Python client.

``drive`` sends a stream of distinct requests (single-use authorization codes, rotating refresh
tokens) that wrk cannot replay: each request once, over keep-alive connections, one thread each.
"""

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int  # socket errors, timeouts and HTTP statuses of 400 and above (drive: other than 200)
    tool: str
    exhausted: bool = False  # drive: the requests ran out before the time was up
    statuses: tuple[tuple[int, int], ...] = ()  # drive: (status, count), most common first

    @property
    def status(self) -> int:
        """The most common status (0 when nothing answered)."""
        return self.statuses[0][0] if self.statuses else 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def tool_name(force_python: bool = False) -> str:
    return "wrk" if shutil.which("wrk") and not force_python else "python"


def measure(url: str, *, seconds: float, connections: int, threads: int,
            force_python: bool = False) -> Measurement:
    if tool_name(force_python) == "wrk":
        return _wrk(url, seconds=seconds, connections=connections, threads=threads)
    return _python(url, seconds=seconds, connections=connections)


def _wrk(url: str, *, seconds: float, connections: int, threads: int) -> Measurement:
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{int(seconds)}s",
               "--timeout", "10s", "-s", str(WRK_SCRIPT), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH-RESULT "))
    data = json.loads(line.split(" ", 1)[1])
    return Measurement(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                       p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000,
                       errors=data["socket_errors"] + data["non_2xx_3xx"], tool="wrk")


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _python(url: str, *, seconds: float, connections: int) -> Measurement:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    begin = time.perf_counter()
    deadline = begin + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while (start := time.perf_counter()) < deadline:
            try:
                conn.request("GET", target)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                continue
            latencies[n].append(time.perf_counter() - start)
            if response.status >= 400:
                errors[n] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - begin
    values = sorted(v for per_client in latencies for v in per_client)
    return Measurement(requests=len(values), seconds=elapsed, p50_ms=percentile(values, 50) * 1000,
                       p95_ms=percentile(values, 95) * 1000, errors=sum(errors), tool="python")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


def form_post(path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Request:
    """A form-encoded POST."""
    return Request("POST", path, urlencode(fields).encode(),
                   (("Content-Type", "application/x-www-form-urlencoded"), *(headers or {}).items()))


def drive(base_url: str, requests: Iterable[Request], *, seconds: float | None, connections: int,
          on_response: Callable[[Request, int, bytes], None] | None = None) -> Measurement:
    """Send each request of ``requests`` once, over ``connections`` keep-alive connections, until
    ``seconds`` have passed (None: until the requests run out). A status other than 200 is an error.

    ``on_response`` is called from the client threads with every answer.
    """
    parts = urlsplit(base_url)
    source = iter(requests)
    source_lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    statuses: list[Counter] = [Counter() for _ in range(connections)]
    ran_out = threading.Event()
    begin = time.perf_counter()
    deadline = begin + seconds if seconds is not None else float("inf")

    def take() -> Request | None:
        with source_lock:
            try:
                return next(source)
            except StopIteration:
                return None

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.perf_counter() < deadline:
            request = take()
            if request is None:  # only asked before the deadline, so this is running out early
                ran_out.set()
                break
            start = time.perf_counter()
            try:
                conn.request(request.method, request.path, body=request.body, headers=dict(request.headers))
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                continue
            latencies[n].append(time.perf_counter() - start)
            statuses[n][response.status] += 1
            if response.status != 200:
                errors[n] += 1
            if on_response is not None:
                on_response(request, response.status, body)
        conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - begin
    values = sorted(v for per_client in latencies for v in per_client)
    counts = sum(statuses, Counter())
    return Measurement(requests=len(values), seconds=elapsed, p50_ms=percentile(values, 50) * 1000,
                       p95_ms=percentile(values, 95) * 1000, errors=sum(errors), tool="python",
                       exhausted=ran_out.is_set() and seconds is not None,
                       statuses=tuple(counts.most_common()))

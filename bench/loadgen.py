"""Drive one URL for a fixed time: wrk when installed, else a small threaded Python client."""

import http.client
import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int  # socket errors, timeouts and HTTP statuses of 400 and above
    tool: str

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

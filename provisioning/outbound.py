"""The one HTTP client for calls to partner URLs (ARCHITECTURE.md, "Outbound HTTP").

Every call: connect and read timeouts, no redirects followed, the answer read up to a size cap,
no proxies from the process environment, http(s) only, and — unless
OUTBOUND_ALLOW_PRIVATE_NETWORKS — a refusal to connect to loopback, private, link-local or other
non-public addresses. The address is checked on the socket actually connected, so a host name
that resolves to a public address when checked and a private one when called gets nowhere.
Each call writes one structured log line (method, URL without its query, status, duration,
size, error); request bodies and headers, which carry tokens, are never logged.

Higher rooms (integrations) call partner URLs through this module too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from appstore.urlrules import private_host

logger = logging.getLogger("provisioning.outbound")

ALLOWED_SCHEMES = ("http", "https")
USER_AGENT = "CRM-App-Platform/1.0 (+outbound)"
MAX_ERROR_LENGTH = 500


class OutboundRefused(Exception):  # noqa: N818 - a refusal, not a failure of the partner
    """The address a URL leads to may not be called.

    Not an OSError, so urllib3 lets it through unwrapped and closes the connection.
    """


@dataclass(frozen=True)
class OutboundResult:
    """What came back: a status code and the (capped) body, or an error text and no status."""

    url: str
    status_code: int | None
    body: bytes
    duration_ms: int
    error: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def private_networks_allowed() -> bool:
    return bool(settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS)


def _check_peer(sock, host: str) -> None:
    if private_networks_allowed():
        return
    address = sock.getpeername()[0]
    problem = private_host(address)
    if problem:
        sock.close()
        raise OutboundRefused(f"{host} resolves to {problem} ({address}); the platform does not call it.")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock, self._dns_host)
        return sock


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock, self._dns_host)
        return sock


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPConnectionPool,
                                                   "https": _CheckedHTTPSConnectionPool}


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment: the address check sees the peer
    session.headers["User-Agent"] = USER_AGENT
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def loggable_url(url: str) -> str:
    """The URL without query, fragment or user info, which may carry credentials."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(invalid URL)"


def check_url(url: str) -> str | None:
    """Why the URL cannot be called before any connection is made, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "The URL cannot be parsed."
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"Only http:// and https:// URLs are called, not {parts.scheme or 'a URL without a scheme'}."
    if not parts.hostname:
        return "The URL has no host."
    if not private_networks_allowed():
        problem = private_host(parts.hostname)
        if problem:
            return f"The platform does not call {problem}."
    return None


def _read_capped(response: requests.Response, limit: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def _error_text(exc: Exception) -> str:
    if isinstance(exc, OutboundRefused):
        text = str(exc)
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        text = "Timed out connecting."
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        text = "Timed out waiting for the answer."
    elif isinstance(exc, requests.exceptions.ConnectionError):
        text = f"Could not connect: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:MAX_ERROR_LENGTH]


def request(method: str, url: str, *, json: object = None, headers: dict | None = None,
            purpose: str = "", connect_timeout: float | None = None, read_timeout: float | None = None,
            max_response_bytes: int | None = None, session: requests.Session | None = None) -> OutboundResult:
    """Call a partner URL once; never raises for network trouble, the result's ``error`` says it.

    ``purpose`` names the call in the log line (say "state_change"); a redirect is an answer
    like any other (its 3xx status is returned, the Location is not followed).
    """
    connect_timeout = connect_timeout or settings.OUTBOUND_CONNECT_TIMEOUT
    read_timeout = read_timeout or settings.OUTBOUND_READ_TIMEOUT
    limit = max_response_bytes or settings.OUTBOUND_MAX_RESPONSE_BYTES
    started = time.monotonic()
    status, body, truncated, error = None, b"", False, ""
    problem = check_url(url)
    if problem:
        error = problem
    else:
        own_session = session is None
        session = session or new_session()
        try:
            with session.request(method, url, json=json, headers=headers, allow_redirects=False,
                                 stream=True, timeout=(connect_timeout, read_timeout)) as response:
                status = response.status_code
                body, truncated = _read_capped(response, limit)
        except (requests.RequestException, OutboundRefused) as exc:
            error = _error_text(exc)
        finally:
            if own_session:
                session.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    result = OutboundResult(url=url, status_code=status, body=body, duration_ms=duration_ms, error=error,
                            truncated=truncated)
    logger.info(
        "outbound %s %s -> %s in %d ms%s", method.upper(), loggable_url(url),
        status if status is not None else "no answer", duration_ms, f" ({error})" if error else "",
        extra={"outbound": {"purpose": purpose, "method": method.upper(), "url": loggable_url(url),
                            "status": status, "duration_ms": duration_ms, "bytes": len(body),
                            "truncated": truncated, "error": error}},
    )
    return result


def post_json(url: str, payload: object, **kwargs) -> OutboundResult:
    return request("POST", url, json=payload, **kwargs)

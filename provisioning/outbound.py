"""The one HTTP client for calls to partner URLs (ARCHITECTURE.md, "Outbound HTTP").

Every call: connect and read timeouts, no redirects followed, the answer read up to a size cap,
no proxies from the process environment, http(s) only, and — unless
OUTBOUND_ALLOW_PRIVATE_NETWORKS — a refusal to connect to loopback, private, link-local or other
non-public addresses. The address is checked on the socket actually connected, so a host name
that resolves to a public address when checked and a private one when called gets nowhere.
Each call writes one structured log line (method, URL without its query, status, duration,
size, error and the library's technical text); request bodies and headers, which carry tokens, are
never logged. Partners see only the short plain error (``OutboundResult.error``).

Higher rooms (integrations) call partner URLs through this module too.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import RemoteDisconnected
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, ProtocolError

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
    location: str = ""  # a redirect's target, without query (it is not followed)
    limit: int = 0  # the size cap the body was read up to
    refused: bool = False  # the address may not be called: trying again will not help

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300

    @property
    def problem(self) -> str:
        """What went wrong, in plain words for the partner: the error, a redirect, an error status,
        or an answer cut at the size cap; "" for a full 2xx answer."""
        if self.error:
            return self.error
        if self.status_code is not None and 300 <= self.status_code < 400:
            target = f" to {self.location}" if self.location else ""
            return f"Redirects are not followed (answered {self.status_code}{target})."
        if not self.ok:
            return f"HTTP {self.status_code}"
        if self.truncated:
            return f"The answer was larger than {_size(self.limit)}."
        return ""


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit and limit % 1024 == 0 else f"{limit} bytes"


def _seconds(value: float) -> str:
    number = f"{value:g}"
    return f"{number} second" if number == "1" else f"{number} seconds"


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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, urllib3's reason, exception args)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def _tls_reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    # "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)" -> "wrong version number"
    match = re.search(r"\]\s*(.+?)\s*\(_ssl\.c", str(error))
    return match.group(1) if match else (error.reason or str(error) or type(error).__name__).lower()


def _error_text(exc: Exception, url: str, connect_timeout: float, read_timeout: float) -> str:
    """A short plain sentence for the partner; the library's text goes only to the log line."""
    parts = urlsplit(url)
    host = parts.hostname or "the host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    where = f"{host}:{port}" if port else host
    chain = list(_causes(exc))

    def found(*kinds: type[BaseException]) -> BaseException | None:
        return next((item for item in chain if isinstance(item, kinds)), None)

    if refused := found(OutboundRefused):
        text = str(refused)
    elif found(NameResolutionError, socket.gaierror):
        text = f"The host name {host} could not be resolved."
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        text = f"No connection to {where} within {_seconds(connect_timeout)}."
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        text = f"No answer within {_seconds(read_timeout)}."
    elif tls := found(ssl.SSLError):
        text = f"TLS handshake failed: {_tls_reason(tls)}"
    elif isinstance(exc, requests.exceptions.SSLError):
        text = "TLS handshake failed."
    elif found(ConnectionRefusedError):
        text = f"Connection refused by {where}."
    elif found(ConnectionResetError, RemoteDisconnected, ProtocolError):
        text = f"{where} closed the connection without an answer."
    elif isinstance(exc, requests.exceptions.ConnectionError):
        text = f"Could not connect to {where}."
    elif isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        text = "The URL is not valid."
    else:
        text = "The call failed before an answer came."
    return text[:MAX_ERROR_LENGTH]


def _technical(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:2000]


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
    status, body, truncated, error, detail, location = None, b"", False, "", "", ""
    problem = check_url(url)
    refused = bool(problem)
    if problem:
        error = problem
    else:
        own_session = session is None
        session = session or new_session()
        try:
            with session.request(method, url, json=json, headers=headers, allow_redirects=False,
                                 stream=True, timeout=(connect_timeout, read_timeout)) as response:
                status = response.status_code
                if response.is_redirect:
                    location = loggable_url(urljoin(url, response.headers.get("Location", "")))
                body, truncated = _read_capped(response, limit)
        except (requests.RequestException, OutboundRefused) as exc:
            refused = any(isinstance(item, OutboundRefused) for item in _causes(exc))
            error = _error_text(exc, url, connect_timeout, read_timeout)
            detail = _technical(exc)
        finally:
            if own_session:
                session.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    result = OutboundResult(url=url, status_code=status, body=body, duration_ms=duration_ms, error=error,
                            truncated=truncated, location=location, limit=limit, refused=refused)
    logged = f" ({error}{' | ' + detail if detail else ''})" if error else ""
    logger.info(
        "outbound %s %s -> %s in %d ms%s", method.upper(), loggable_url(url),
        status if status is not None else "no answer", duration_ms, logged,
        extra={"outbound": {"purpose": purpose, "method": method.upper(), "url": loggable_url(url),
                            "status": status, "duration_ms": duration_ms, "bytes": len(body),
                            "truncated": truncated, "error": error, "detail": detail}},
    )
    return result


def post_json(url: str, payload: object, **kwargs) -> OutboundResult:
    return request("POST", url, json=payload, **kwargs)

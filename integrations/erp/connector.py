"""The client for a partner's ERP connector (integrations/erp/PROTOCOL.md).

Every call goes through the platform's one outbound HTTP client; a run first authenticates with the
handshake and then sends its JWT as a bearer token on every call. Transient failures (no answer,
502/503/504, 429) are retried with back-off; an ``UNKNOWN_CONNECTION_ID`` answer makes the client
send ``SaveConnection`` again and retry the call once. Every call is recorded against the app and
tenant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from provisioning import outbound

from .. import handshake
from ..calls import CallRecorder, is_transient, with_retries
from ..models import CallTarget

UNKNOWN_CONNECTION = "UNKNOWN_CONNECTION_ID"
STATES = {"Ok", "OkWithInfo", "Warning", "Error"}


class ConnectorError(Exception):
    """A call failed: ``user`` is what the tenant admin is shown, ``tech`` goes to the log."""

    def __init__(self, user: str, tech: str = "", code: str = "", transient: bool = False):
        super().__init__(user)
        self.user = user
        self.tech = tech or user
        self.code = code
        self.transient = transient


class ConnectorRefused(ConnectorError):
    """The connector answered, with IsOk false."""


@dataclass
class ConnectorTarget:
    """Where and as whom to call: the app's endpoint, client and key in the tenant's environment."""

    endpoint: str
    environment: object
    client_id: str
    public_key_pem: str | None
    context_identifier: str


class ErpConnectorClient:
    def __init__(
        self,
        target: ConnectorTarget,
        recorder: CallRecorder,
        *,
        connection_id: str | None = None,
        config_values: dict | None = None,
        retry_delays: list[float] | None = None,
        read_timeout: float | None = None,
    ):
        self.target = target
        self.recorder = recorder
        self.connection_id = connection_id
        self.config_values = config_values or {}
        self.retry_delays = settings.INTEGRATION_RETRY_DELAYS if retry_delays is None else retry_delays
        self.read_timeout = read_timeout  # None: the outbound client's default
        self.session = outbound.new_session()
        self._challenge: handshake.Challenge | None = None

    def close(self) -> None:
        self.session.close()

    def url(self, operation: str) -> str:
        return f"{self.target.endpoint.rstrip('/')}/{operation}"

    def authenticate(self) -> None:
        """The handshake; raises handshake.HandshakeFailed or ConnectorError with the reason."""
        issued = handshake.challenge(
            environment=self.target.environment,
            client_id=self.target.client_id,
            context_identifier=self.target.context_identifier,
        )
        try:
            answer = self._post("Authenticate", {"Token": issued.token}, bearer=None)
        except ConnectorError as exc:
            if exc.transient:
                raise
            raise handshake.HandshakeFailed(exc.user) from None
        handshake.verify_reply(
            answer.get("Token"), nonce=issued.nonce, public_key_pem=self.target.public_key_pem
        )
        self._challenge = issued

    def _bearer(self) -> str:
        if self._challenge is None or self._challenge.expires_at - timedelta(seconds=60) <= timezone.now():
            self.authenticate()
        return self._challenge.token

    def call(self, operation: str, payload: dict | None = None, *, with_connection: bool = True) -> dict:
        """One operation; the answer's keys beside the PluginResponse. Raises ConnectorError."""
        body = dict(payload or {})
        if with_connection and self.connection_id:
            body["ConnectionId"] = self.connection_id
        try:
            return self._checked(operation, self._post(operation, body, bearer=self._bearer()))
        except ConnectorRefused as refused:
            if refused.code != UNKNOWN_CONNECTION or not with_connection or operation == "SaveConnection":
                raise
        # The connector forgot the connection: introduce it again, then retry once.
        self._checked(
            "SaveConnection",
            self._post(
                "SaveConnection",
                {"ConnectionId": self.connection_id, "ConfigFields": self.config_values},
                bearer=self._bearer(),
            ),
        )
        return self._checked(operation, self._post(operation, body, bearer=self._bearer()))

    @staticmethod
    def _checked(operation: str, answer: dict) -> dict:
        if answer.get("IsOk") is not True:
            user = answer.get("UserExplanation") or f"The connector refused {operation}."
            raise ConnectorRefused(
                str(user)[:1000],
                str(answer.get("TechExplanation") or "")[:2000],
                code=str(answer.get("ErrorCode") or "")[:80],
            )
        return answer

    def _post(self, operation: str, body: dict, *, bearer: str | None) -> dict:
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"

        def renew_session() -> None:  # a connection that failed is not reused
            self.session.close()
            self.session = outbound.new_session()

        result = with_retries(
            lambda: outbound.post_json(
                self.url(operation),
                body,
                headers=headers,
                purpose=f"erp:{operation}",
                session=self.session,
                max_response_bytes=settings.INTEGRATION_MAX_RESPONSE_BYTES,
                read_timeout=self.read_timeout,
            ),
            record=lambda result: self.recorder.record(
                target=CallTarget.CONNECTOR,
                operation=operation,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                error=result.problem,
            ),
            delays=self.retry_delays,
            before_retry=renew_session,
        )
        problem = result.problem
        if not problem:
            return _envelope(operation, result.body)
        if result.status_code == 401:
            reason = _explanation(result.body)
            raise ConnectorError(
                f"The connector refused the platform's credentials for {operation} (HTTP 401)"
                + (f": {reason}" if reason else "."),
                code="HTTP_401",
            )
        raise ConnectorError(f"{operation} failed: {problem}", transient=is_transient(result))


def _explanation(body: bytes) -> str:
    """The reason in an error answer's PluginResponse, if it has one."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ""
    if not isinstance(answer, dict):
        return ""
    parts = [answer.get("UserExplanation"), answer.get("TechExplanation")]
    return " ".join(str(p) for p in parts if isinstance(p, str) and p.strip())[:500]


def _envelope(operation: str, body: bytes) -> dict:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ConnectorError(f"The connector's answer to {operation} is not JSON.") from None
    if not isinstance(answer, dict):
        raise ConnectorError(f"The connector's answer to {operation} is not a JSON object.")
    if not isinstance(answer.get("IsOk"), bool):
        raise ConnectorError(f"The connector's answer to {operation} lacks IsOk (true or false).")
    state = answer.get("State")
    if state is not None and state not in STATES:
        raise ConnectorError(
            f"The connector's answer to {operation} has an unknown State {str(state)[:40]!r}."
        )
    return answer

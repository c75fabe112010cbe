"""How an integration service calls out: every attempt recorded (in batches, so a run of thousands of
calls costs a handful of inserts) and transient failures tried again after the configured delays."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from provisioning.outbound import OutboundResult

from .models import IntegrationCall

FLUSH_EVERY = 200
# No answer, or an answer that says "later": worth another attempt. A refused address is not.
TRANSIENT_STATUS = {429, 502, 503, 504}


def is_transient(result: OutboundResult) -> bool:
    return (result.status_code is None and not result.refused) or result.status_code in TRANSIENT_STATUS


def with_retries(
    send: Callable[[], OutboundResult],
    *,
    record: Callable[[OutboundResult], None],
    delays: Sequence[float],
    may_retry: Callable[[OutboundResult], bool] = lambda result: True,
    before_retry: Callable[[], None] | None = None,
) -> OutboundResult:
    """Send, record the attempt, and send again after each of ``delays`` while the answer is a
    transient failure that ``may_retry`` allows; the last result."""
    attempt = 0
    while True:
        result = send()
        record(result)
        if not result.problem or not is_transient(result) or attempt >= len(delays) or not may_retry(result):
            return result
        time.sleep(delays[attempt])  # back-off between attempts of one call
        attempt += 1
        if before_retry is not None:
            before_retry()


@dataclass
class CallRecorder:
    """Collects calls for one app and tenant (and connection and run, when there are)."""

    app_id: int
    tenant_id: int
    connection_id: int | None = None
    run_id: int | None = None
    pending: list[IntegrationCall] = field(default_factory=list)

    def record(
        self, *, target: str, operation: str, status_code: int | None, duration_ms: int, error: str = ""
    ) -> None:
        self.pending.append(
            IntegrationCall(
                app_id=self.app_id,
                tenant_id=self.tenant_id,
                connection_id=self.connection_id,
                run_id=self.run_id,
                target=target,
                operation=operation[:120],
                status_code=status_code,
                duration_ms=duration_ms,
                ok=not error,
                error=error[:2000],
                at=timezone.now(),
            )
        )
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            IntegrationCall.objects.bulk_create(self.pending)
            self.pending = []

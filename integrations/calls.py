"""The log of every call an integration service makes, written in batches so a run of thousands of
calls costs a handful of inserts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from .models import IntegrationCall

FLUSH_EVERY = 200


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

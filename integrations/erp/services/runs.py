"""Asking for ERP sync runs and the lock that keeps one run per connection at a time.

The lock is a lease on the connection row: a run takes it with one conditional UPDATE, renews it
while it works and gives it back at the end. A worker that dies simply stops renewing, and the next
run takes over once the lease has run out.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import record

from ...models import ErpConnection, RunKind, RunState, SyncRun
from . import mapping
from .connections import SetupRefused, ensure_usable, require_admin


def lease() -> timedelta:
    return timedelta(seconds=settings.INTEGRATION_LOCK_LEASE_SECONDS)


def acquire(connection: ErpConnection) -> uuid.UUID | None:
    token = uuid.uuid4()
    now = timezone.now()
    taken = (
        ErpConnection.objects.filter(pk=connection.pk)
        .filter(Q(lock_token__isnull=True) | Q(lock_expires_at__lt=now))
        .update(lock_token=token, lock_expires_at=now + lease())
    )
    return token if taken else None


def renew(connection: ErpConnection, token: uuid.UUID) -> bool:
    """Extend the lease; False when another run has taken it over (this one must stop)."""
    return bool(
        ErpConnection.objects.filter(pk=connection.pk, lock_token=token).update(
            lock_expires_at=timezone.now() + lease()
        )
    )


def release(connection: ErpConnection, token: uuid.UUID) -> None:
    ErpConnection.objects.filter(pk=connection.pk, lock_token=token).update(
        lock_token=None, lock_expires_at=None
    )


def queue_run(*, connection: ErpConnection, kind: str, user=None) -> SyncRun:
    """A queued run, dispatched to a worker when the transaction commits."""
    from ..tasks import run_sync

    run = SyncRun.objects.create(
        connection=connection,
        tenant_id=connection.tenant_id,
        kind=kind,
        requested_by=user if getattr(user, "pk", None) else None,
    )
    transaction.on_commit(lambda: run_sync.delay(run.pk))
    return run


def queue_run_now(*, connection: ErpConnection, kind: str) -> SyncRun:
    """A run the calling worker carries out itself (the schedule runs connections one by one)."""
    return SyncRun.objects.create(connection=connection, tenant_id=connection.tenant_id, kind=kind)


@transaction.atomic
def request_run(*, user, connection: ErpConnection, kind: str) -> SyncRun:
    """Sync now, force sync or resync from CRM, asked for by a tenant admin."""
    require_admin(user, connection.authorization)
    if kind not in (RunKind.MANUAL, RunKind.FORCE, RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS):
        raise SetupRefused("Choose one of the runs the page offers.")
    ensure_usable(connection.authorization)
    if kind == RunKind.MANUAL and not connection.is_active:
        raise SetupRefused("The connection is not active: activate it, or use Force sync.")
    problems = mapping.activation_problems(connection)
    if problems and connection.actor_types:  # a connection not set up yet learns its fields in its run
        raise SetupRefused(" ".join(problems))
    # Lock the connection row so two requests at once see each other's run.
    row = ErpConnection.objects.select_for_update().filter(pk=connection.pk).first()
    now = timezone.now()
    locked = row is not None and row.lock_token is not None and row.lock_expires_at > now
    # A run that is running without a live lock died with its worker; a run queued longer than a
    # lease lost its task: neither is in the way.
    alive = Q(state=RunState.QUEUED, queued_at__gt=now - lease())
    if locked:
        alive |= Q(state=RunState.RUNNING)
    pending = connection.runs.filter(alive).order_by("pk").first()
    if pending is not None and pending.kind == kind and pending.state == RunState.QUEUED:
        return pending  # asked twice before a worker took it: one run does
    if pending is not None or locked:
        what = "A run" if pending is None else (
            "A scheduled sync" if pending.kind == RunKind.SCHEDULED else pending.get_kind_display())
        state = pending.get_state_display().lower() if pending is not None else "running"
        raise SetupRefused(f"{what} is {state} on this connection; ask again when it has ended.")
    run = queue_run(connection=connection, kind=kind, user=user)
    record(
        event_type="erp_connection.run_requested",
        actor=user,
        app=connection.app,
        tenant=connection.tenant,
        message=f"{run.get_kind_display()} of ERP connection {connection.name} requested",
    )
    return run


def due_connections(tenant_id: int) -> list[ErpConnection]:
    """The tenant's active connections whose interval has passed, in rank order; a connection whose
    app is no longer authorized waits (its page says why) instead of failing every interval."""
    now = timezone.now()
    due = []
    active = ErpConnection.objects.filter(tenant_id=tenant_id, is_active=True).select_related("authorization")
    for connection in active.order_by("rank", "id"):
        if not connection.authorization.is_usable:
            continue
        started = connection.last_run_started_at
        # A little slack so a task firing on the interval is not a moment too early.
        if started is None or started + timedelta(seconds=connection.sync_interval) <= now + timedelta(
            seconds=2
        ):
            due.append(connection)
    return due

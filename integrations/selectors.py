"""Reads for the ERP connection pages: always scoped by the authorization (tenant and app) in the URL,
so one tenant never reaches another's connections, runs or log."""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, QuerySet, Subquery

from provisioning.models import Authorization

from .models import ErpConnection, IntegrationCall, RunState, SyncLogEntry, SyncRun

OPEN_STATES = (RunState.QUEUED, RunState.RUNNING)


def app_connections(authorization: Authorization) -> QuerySet[ErpConnection]:
    """The tenant's connections to the app, in rank order, with their latest run's state."""
    latest = SyncRun.objects.filter(connection=OuterRef("pk")).order_by("-queued_at", "-id")
    return (ErpConnection.objects.filter(tenant_id=authorization.tenant_id, app_id=authorization.app_id)
            .annotate(last_run_state=Subquery(latest.values("state")[:1]))
            .order_by("rank", "id"))


def app_connection(authorization: Authorization, connection_id: uuid.UUID | str) -> ErpConnection | None:
    """One connection of the tenant and app by its GUID; another tenant's or app's is None."""
    return (ErpConnection.objects.filter(tenant_id=authorization.tenant_id, app_id=authorization.app_id,
                                         connection_id=connection_id)
            .select_related("authorization__app", "authorization__tenant__environment", "app", "tenant")
            .first())


def connection_runs(connection: ErpConnection) -> QuerySet[SyncRun]:
    """The connection's runs, newest first."""
    return SyncRun.objects.filter(connection=connection).order_by("-queued_at", "-id")


def open_run(connection: ErpConnection) -> SyncRun | None:
    """The newest run still queued or running, whose progress the page shows."""
    return connection_runs(connection).filter(state__in=OPEN_STATES).first()


def connection_run(connection: ErpConnection, pk: int) -> SyncRun | None:
    return SyncRun.objects.filter(connection=connection, pk=pk).first()


def run_entries(run: SyncRun, kind: str | None = None) -> QuerySet[SyncLogEntry]:
    """The run's log in the order it was written, filtered by kind (the (run, kind) index)."""
    entries = SyncLogEntry.objects.filter(run=run)
    if kind:
        entries = entries.filter(kind=kind)
    return entries.order_by("id")


def run_calls(run: SyncRun) -> QuerySet[IntegrationCall]:
    """The calls the run made, in the order they were made."""
    return IntegrationCall.objects.filter(run=run).order_by("at", "id")

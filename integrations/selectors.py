"""Reads for the ERP connection pages: always scoped by the authorization (tenant and app) in the URL,
so one tenant never reaches another's connections, runs or log."""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, QuerySet, Subquery

from provisioning.models import Authorization

from .erp.crm_fields import crm_field
from .models import (
    Direction,
    ErpConnection,
    FieldAccess,
    FieldMapping,
    IntegrationCall,
    ListItemMapping,
    RunState,
    SyncLogEntry,
    SyncRun,
)

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


def crm_list_item_names(connection: ErpConnection, wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """Names of CRM list items (CRM list → item ids) as the connection's list-item pairs know them, in one
    query: the CRM item's name, else the name of an ERP item paired with it."""
    if not wanted:
        return {}
    rows = (ListItemMapping.objects
            .filter(connection=connection, crm_list__in=list(wanted),
                    crm_id__in=sorted({item for items in wanted.values() for item in items}))
            .order_by("erp_list", "erp_value", "id")
            .values_list("crm_list", "crm_id", "crm_name", "erp_value"))
    crm_names: dict[tuple[str, int], str] = {}
    erp_names: dict[tuple[str, int], str] = {}
    for crm_list, crm_id, crm_name, erp_value in rows:
        if crm_id in wanted[crm_list]:
            if crm_name:
                crm_names.setdefault((crm_list, crm_id), crm_name)
            if erp_value:
                erp_names.setdefault((crm_list, crm_id), erp_value)
    return {**erp_names, **crm_names}


def run_calls(run: SyncRun) -> QuerySet[IntegrationCall]:
    """The calls the run made, in the order they were made."""
    return IntegrationCall.objects.filter(run=run).order_by("at", "id")


def to_erp_fields(connection: ErpConnection) -> list[dict]:
    """The fields a resync writes in the ERP (mapped "to ERP" on enabled actor types), with the names
    an administrator knows them by; one query."""
    rows = (
        FieldMapping.objects.filter(actor_mapping__connection=connection, actor_mapping__enabled=True,
                                    direction=Direction.TO_ERP, missing=False)
        .select_related("actor_mapping")
        .order_by("actor_mapping_id", "id")
    )
    fields = []
    for row in rows:
        actor = row.actor_mapping
        meta = next((f for f in actor.erp_fields if f["FieldKey"] == row.erp_field), None)
        if meta is None or meta["Access"] == FieldAccess.READ_ONLY:
            continue
        target = crm_field(actor.crm_entity, row.crm_field)
        fields.append({"actor_type": actor.actor_type, "erp_label": meta["DisplayName"],
                       "crm_label": target.label if target else row.crm_field})
    return fields

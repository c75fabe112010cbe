"""One ERP sync run of one connection (SPEC §10).

A run takes the connection's lock, authenticates with the connector (handshake), refreshes the
fields it is offered, then

* pulls: per enabled actor type (companies before persons), every actor changed on or after the
  type's MostRecentTimestamp, creating or updating the linked CRM record with the fields mapped
  "to CRM" and advancing the timestamp to the largest LastModified once the type is done;
* pushes: CRM records of linked actors changed since the last push, sending the fields mapped
  "to ERP" that differ from what the ERP last had (``SaveActors``).

A record that breaks the contract or the mapping is logged and skipped, never half applied; a
failure of the connector or the CRM as a whole ends the run as failed with the reason, leaving
timestamps where they were so the next run starts from there. A run that dies between creating a
CRM record and linking it leaves a pending link, which the next run resolves by looking the record up.
"""
from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils import timezone

from ... import handshake
from ...crm import CrmApi, CrmApiError
from ...models import (
    Direction,
    ErpConnection,
    ListItemMapping,
    LogKind,
    RunKind,
    RunState,
    SyncLogEntry,
    SyncRun,
)
from .. import values as codec
from ..connector import ConnectorError, ErpConnectorClient
from ..crm_fields import PERSON_TYPE, crm_field
from ..services import connections as connection_services
from ..services import mapping as mapping_services
from ..services import runs as run_services
from ..services.target import EndpointOff, connector_for, recorder_for
from .base import LOG_BATCH, PROGRESS_EVERY, ActorPlan, FieldPlan, Lists, RunAborted
from .pull import Pull
from .push import Push

logger = logging.getLogger("integrations.erp")


class Run(Pull, Push):
    def __init__(self, run: SyncRun):
        self.run = run
        self.connection: ErpConnection = run.connection
        self.authorization = self.connection.authorization
        self.recorder = recorder_for(self.authorization, self.connection, run.pk)
        self.connector: ErpConnectorClient | None = None
        self.crm: CrmApi | None = None
        self.lock = None
        self.lists = Lists()
        self.log: list[SyncLogEntry] = []
        self.last_progress = 0.0
        self.notes: list[str] = []  # what a run that succeeded still has to tell

    # ---------------------------------------------------------------- bookkeeping

    def entry(
        self,
        kind: str,
        *,
        direction: str = "",
        actor_type: str = "",
        erp_key: str = "",
        crm_id: int | None = None,
        field_name: str = "",
        old="",
        new="",
        message: str = "",
    ) -> None:
        self.log.append(
            SyncLogEntry(
                run=self.run,
                connection=self.connection,
                kind=kind,
                direction=direction,
                actor_type=actor_type,
                erp_key=str(erp_key)[:120],
                crm_id=crm_id,
                field=field_name[:80],
                old_value=codec.plain(old)[:2000],
                new_value=codec.plain(new)[:2000],
                message=message[:2000],
            )
        )
        if len(self.log) >= LOG_BATCH:
            self.flush_log()

    def flush_log(self) -> None:
        if self.log:
            SyncLogEntry.objects.bulk_create(self.log)
            self.log = []

    def progress(self, phase: str | None = None, force: bool = False) -> None:
        if phase is not None:
            self.run.phase = phase[:120]
        now = time.monotonic()
        if not force and now - self.last_progress < PROGRESS_EVERY:
            return
        self.last_progress = now
        if not run_services.renew(self.connection, self.lock):
            raise RunAborted("Another run took over this connection's lock.")
        self.flush_log()
        self.recorder.flush()
        SyncRun.objects.filter(pk=self.run.pk).update(
            phase=self.run.phase,
            total=self.run.total,
            processed=self.run.processed,
            created=self.run.created,
            updated=self.run.updated,
            pushed=self.run.pushed,
            failed_records=self.run.failed_records,
        )

    def problem(self, plan_type: str, erp_key: str, message: str, crm_id: int | None = None) -> None:
        self.run.failed_records += 1
        self.entry(LogKind.PROBLEM, actor_type=plan_type, erp_key=erp_key, crm_id=crm_id, message=message)

    # ---------------------------------------------------------------- the run

    def execute(self) -> None:
        run = self.run
        self.lock = run_services.acquire(self.connection)
        if self.lock is None:
            run.state, run.finished_at = RunState.SKIPPED, timezone.now()
            run.error = "Another run of this connection was in progress; this one did not start."
            run.save(update_fields=["state", "finished_at", "error"])
            return
        try:
            # A run that held the lock before and is still marked running died with its worker.
            SyncRun.objects.filter(connection=self.connection, state=RunState.RUNNING).exclude(
                pk=run.pk
            ).update(
                state=RunState.INTERRUPTED,
                finished_at=timezone.now(),
                error="The worker stopped during the run; the next run went on from where it was.",
            )
            run.state, run.started_at = RunState.RUNNING, timezone.now()
            run.save(update_fields=["state", "started_at"])
            ErpConnection.objects.filter(pk=self.connection.pk).update(last_run_started_at=run.started_at)
            self._work()
            run.state = RunState.SUCCEEDED
            if run.failed_records:
                self.notes.append(f"{run.failed_records} record(s) were skipped; the sync log says why.")
            run.error = " ".join(self.notes)
        except (RunAborted, handshake.HandshakeFailed, ConnectorError, CrmApiError, EndpointOff) as exc:
            run.state = RunState.FAILED
            run.error = (getattr(exc, "user", None) or getattr(exc, "message", None) or str(exc))[:2000]
            if isinstance(exc, handshake.HandshakeFailed):
                run.error = f"Handshake failed: {run.error}"
            logger.warning(
                "ERP sync run %s of connection %s failed: %s",
                run.pk,
                self.connection.connection_id,
                run.error,
            )
        except Exception as exc:
            run.state = RunState.FAILED
            run.error = f"Unexpected error: {type(exc).__name__}"
            logger.exception("ERP sync run %s failed unexpectedly", run.pk)
        finally:
            if self.connector is not None:
                self.connector.close()
            if self.crm is not None:
                self.crm.close()
            if SyncRun.objects.filter(pk=run.pk).exists():
                self._finish()
            else:  # the connection was deleted under the run (its lease had run out)
                logger.warning("ERP sync run %s ended after its connection was deleted", run.pk)

    def _finish(self) -> None:
        run = self.run
        self.flush_log()
        self.recorder.flush()
        run.finished_at = timezone.now()
        run.save()
        if run.state == RunState.SUCCEEDED:
            ErpConnection.objects.filter(pk=self.connection.pk).update(last_success_at=run.finished_at)
        run_services.release(self.connection, self.lock)

    def _work(self) -> None:
        run, connection = self.run, self.connection
        if run.tenant_id != connection.tenant_id or self.authorization.tenant_id != connection.tenant_id:
            raise RunAborted("The run does not belong to the connection's company.")
        if not connection.tenant.is_running:
            raise RunAborted(
                f"The CRM of {connection.tenant.company_name} is "
                f"{connection.tenant.get_state_display().lower()}: nothing was synced."
            )
        if not connection.is_active and run.kind != RunKind.FORCE:
            raise RunAborted("The connection is not active.")
        if not self.authorization.is_usable:
            raise RunAborted(f"{connection.app.name} is no longer authorized for this company.")
        self.progress("Handshake with the connector", force=True)
        self.connector = connector_for(self.authorization, self.recorder, connection)
        self.connector.authenticate()
        self.crm = CrmApi(self.authorization, self.recorder)
        if not connection.actor_types:
            self._first_setup()
        plans = self._plans()
        if run.kind in (RunKind.RESYNC, RunKind.RESYNC_NO_BLANKS):
            for plan in plans:
                self._push(plan, everything=True, no_blanks=run.kind == RunKind.RESYNC_NO_BLANKS)
            return
        push_from = timezone.now()
        for plan in plans:
            self._pull(plan)
        for plan in plans:
            self._push(plan, everything=False, no_blanks=False)
        ErpConnection.objects.filter(pk=connection.pk).update(crm_pushed_until=push_from)

    def _first_setup(self) -> None:
        """A connection made without its connector at hand (the demo data, an import) learns its actor
        types and fields on its first run: auto-mapped by key, as a tenant admin's new connection is."""
        self.progress("Fetching actor types and fields from the connector", force=True)
        try:
            connection_services.fetch_actor_types(
                connection=self.connection,
                call=lambda operation, payload=None: self.connector.call(operation, payload),
            )
        except connection_services.SetupRefused as exc:
            raise RunAborted(exc.message) from None
        problems = mapping_services.activation_problems(self.connection)
        if problems:
            raise RunAborted(" ".join(problems))

    def _plans(self) -> list[ActorPlan]:
        """The enabled actor types (companies first), with their fields refreshed from the connector."""
        actors = list(self.connection.actor_mappings.filter(enabled=True).prefetch_related("fields"))
        actors.sort(key=lambda a: (a.actor_type == PERSON_TYPE, a.actor_type))
        try:
            known = connection_services.offered_actor_types(self.connector.call)
        except connection_services.SetupRefused as exc:  # the connector's answer breaks the contract
            raise RunAborted(exc.message) from None
        if known != list(self.connection.actor_types or []):
            self.connection.actor_types = known
            ErpConnection.objects.filter(pk=self.connection.pk).update(actor_types=known)
        plans = []
        for actor in actors:
            if actor.actor_type not in known:  # the configuration changed under the mapping
                self.notes.append(
                    f"{actor.actor_type} is no longer offered by the connector and was not synced; "
                    f"turn it off in the field mapping."
                )
                self.entry(LogKind.PROBLEM, actor_type=actor.actor_type, message=self.notes[-1])
                continue
            answer = self.connector.call("GetSupportedActorTypeFields", {"ActorType": actor.actor_type})
            try:
                fields = connection_services.field_metadata(
                    answer.get("Fields"), f"fields of {actor.actor_type}"
                )
            except connection_services.SetupRefused as exc:  # the connector's answer breaks the contract
                raise RunAborted(exc.message) from None
            with transaction.atomic():
                actor = mapping_services.merge_fields(
                    connection=self.connection, actor_type=actor.actor_type, fields=fields
                )
            metas = {f["FieldKey"]: f for f in actor.erp_fields}
            planned = []
            for current in actor.fields.all():
                target = crm_field(actor.crm_entity, current.crm_field) if current.crm_field else None
                meta = metas.get(current.erp_field)
                if current.missing or meta is None or target is None or current.direction == Direction.OFF:
                    continue
                planned.append(FieldPlan(current.erp_field, meta, target, current.direction))
            plans.append(ActorPlan(actor, planned))
        for row in ListItemMapping.objects.filter(connection=self.connection, crm_id__isnull=False):
            self.lists.to_crm[(row.erp_list, row.erp_key)] = row.crm_id
            self.lists.to_erp.setdefault((row.erp_list, row.crm_id), row.erp_key)
        return plans


def execute(run_id: int) -> SyncRun | None:
    """Carry out a queued run; None when it is not queued any more (a repeated task)."""
    claimed = SyncRun.objects.filter(pk=run_id, state=RunState.QUEUED).exists()
    if not claimed:
        return None
    run = SyncRun.objects.select_related(
        "connection__authorization__tenant__environment",
        "connection__authorization__app",
        "connection__app",
        "connection__tenant",
    ).get(pk=run_id)
    Run(run).execute()
    return run

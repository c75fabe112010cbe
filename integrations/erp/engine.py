"""The ERP sync engine (SPEC §10): one run of one connection.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import handshake
from ..crm import CrmApi, CrmApiError, CrmNotFound, CrmRefused, odata_text, odata_time
from ..models import (
    ActorTypeMapping,
    Direction,
    ErpConnection,
    ErpLink,
    FieldAccess,
    FieldType,
    ListItemMapping,
    LogKind,
    RunKind,
    RunState,
    SyncLogEntry,
    SyncRun,
)
from . import values as codec
from .connector import ConnectorError, ConnectorRefused, ErpConnectorClient
from .crm_fields import COMPANY_TYPES, ID_FIELD, PERSON_TYPE, CrmField, crm_field, read, write
from .services import connections as connection_services
from .services import mapping as mapping_services
from .services import runs as run_services
from .services.target import EndpointOff, connector_for, recorder_for

logger = logging.getLogger("integrations.erp")

PAGE = 500
PUSH_BATCH = 100
# Records skipped by a run are read again by key next time, up to this many per actor type.
MAX_RETRY_KEYS = 5000
PROGRESS_EVERY = 1.0  # seconds between progress saves
LOG_BATCH = 500


class RecordProblem(Exception):
    """One record cannot be synced; the run logs it and goes on."""


class RunAborted(Exception):
    """The run cannot go on; the message says why."""


@dataclass
class FieldPlan:
    erp_field: str
    meta: dict
    crm: CrmField
    direction: str


@dataclass
class ActorPlan:
    actor: ActorTypeMapping
    fields: list[FieldPlan]

    @property
    def actor_type(self) -> str:
        return self.actor.actor_type

    @property
    def entity(self) -> str:
        return self.actor.crm_entity

    def direction(self, direction: str) -> list[FieldPlan]:
        return [f for f in self.fields if f.direction == direction]


@dataclass
class Lists:
    """ERP list item key ↔ CRM item id, per ERP list."""

    to_crm: dict[tuple[str, str], int] = field(default_factory=dict)
    to_erp: dict[tuple[str, int], str] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(text: object) -> datetime:
    if not isinstance(text, str) or not text:
        raise ValueError("LastModified is missing")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"LastModified {text[:40]!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _blank(value):
    """A CRM value as kept in a link's snapshot: empty text and empty references are None."""
    return None if value in ("", 0) else value


def _comparable(value):
    """Values as stored in a link's snapshot (JSON): decimals and times as text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return _iso(value)
    return value


class Run:
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
                run.error = f"{run.failed_records} record(s) were skipped; the sync log says why."
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
        plans = []
        for actor in actors:
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

    # ---------------------------------------------------------------- ERP → CRM

    def _fetch(self, plan: ActorPlan, since: str | None) -> list:
        keys = [f.erp_field for f in plan.fields]
        actors, skip = [], 0
        while True:
            answer = self.connector.call(
                "GetActorsByTimestamp",
                {
                    "ActorType": plan.actor_type,
                    "Timestamp": since,
                    "FieldKeys": keys,
                    "Skip": skip,
                    "Take": PAGE,
                },
            )
            page = answer.get("Actors")
            if not isinstance(page, list):
                raise RunAborted(
                    f"The connector's GetActorsByTimestamp answer for {plan.actor_type} has no Actors list."
                )
            actors.extend(page)
            self.progress(f"Reading {plan.actor_type} from the ERP ({len(actors)})")
            if len(page) < PAGE:
                return actors
            skip += len(page)

    def _fetch_keys(self, plan: ActorPlan, keys: list[str]) -> list:
        """The actors with these ErpKeys (those skipped last time), in chunks; vanished ones are absent."""
        fields = [f.erp_field for f in plan.fields]
        actors = []
        for start in range(0, len(keys), PAGE):
            answer = self.connector.call(
                "GetActors",
                {"ActorType": plan.actor_type, "ErpKeys": keys[start : start + PAGE], "FieldKeys": fields},
            )
            page = answer.get("Actors")
            if not isinstance(page, list):
                raise RunAborted(
                    f"The connector's GetActors answer for {plan.actor_type} has no Actors list."
                )
            actors.extend(page)
        return actors

    def _pull(self, plan: ActorPlan) -> None:
        since = (self.connection.erp_timestamps or {}).get(plan.actor_type)
        actors = self._fetch(plan, since)
        fetched = {a.get("ErpKey") for a in actors if isinstance(a, dict)}
        retry = [k for k in (self.connection.erp_retry or {}).get(plan.actor_type, []) if k not in fetched]
        if retry:
            actors.extend(self._fetch_keys(plan, retry))
        skipped: list[str] = []
        self.run.total += len(actors)
        links = {
            link.erp_key: link
            for link in ErpLink.objects.filter(connection=self.connection, actor_type=plan.actor_type)
        }
        parents = self._parent_links() if plan.entity == "Person" else {}
        latest = _parse_time(since) if since else None
        self.progress(f"Writing {plan.actor_type} to the CRM", force=True)
        for raw in actors:
            key = raw.get("ErpKey") if isinstance(raw, dict) else None
            key = key if isinstance(key, str) else ""
            try:
                actor = self._checked_actor(raw, plan)
                moment = _parse_time(actor["LastModified"])
                latest = moment if latest is None or moment > latest else latest
                self._apply(plan, actor, links, parents)
            except RecordProblem as problem:
                self.problem(plan.actor_type, key, str(problem))
                skipped.append(key)
            except CrmRefused as refused:
                self.problem(plan.actor_type, key, f"The CRM refused the record: {refused.message}")
                skipped.append(key)
            self.run.processed += 1
            self.progress()
        current = ErpConnection.objects.get(pk=self.connection.pk)
        stamps, retries = dict(current.erp_timestamps or {}), dict(current.erp_retry or {})
        if latest is not None:
            stamps[plan.actor_type] = _iso(latest)
        retries[plan.actor_type] = sorted({k for k in skipped if k and len(k) <= 120})[:MAX_RETRY_KEYS]
        if not retries[plan.actor_type]:
            del retries[plan.actor_type]
        ErpConnection.objects.filter(pk=self.connection.pk).update(erp_timestamps=stamps, erp_retry=retries)
        self.connection.erp_timestamps, self.connection.erp_retry = stamps, retries

    def _parent_links(self) -> dict[tuple[str, str], int]:
        rows = ErpLink.objects.filter(
            connection=self.connection, actor_type__in=COMPANY_TYPES, crm_id__isnull=False
        ).values_list("actor_type", "erp_key", "crm_id")
        return {(actor_type, key): crm_id for actor_type, key, crm_id in rows}

    @staticmethod
    def _checked_actor(raw: object, plan: ActorPlan) -> dict:
        if not isinstance(raw, dict):
            raise RecordProblem("The connector sent an actor that is not an object.")
        if raw.get("ActorType") != plan.actor_type:
            raise RecordProblem(
                f"The connector sent a {str(raw.get('ActorType'))[:40]!r} actor when asked for "
                f"{plan.actor_type}."
            )
        key = raw.get("ErpKey")
        if not isinstance(key, str) or not key.strip() or len(key) > 120:
            raise RecordProblem("The actor has no ErpKey (text of at most 120 characters).")
        try:
            _parse_time(raw.get("LastModified"))
        except ValueError as exc:
            raise RecordProblem(str(exc)) from None
        values = raw.get("FieldValues")
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in values.items()
        ):
            raise RecordProblem("FieldValues is not an object of text values.")
        return raw

    def _to_crm_values(self, plan: ActorPlan, actor: dict) -> tuple[dict, dict]:
        """(CRM values by CRM field, ERP values of "to ERP" fields) of an actor; RecordProblem when a value
        does not fit its field."""
        values = actor["FieldValues"]
        crm_values, erp_values = {}, {}
        for item in plan.fields:
            if item.erp_field not in values:
                continue
            try:
                value = codec.decode(values[item.erp_field], item.meta["FieldType"])
            except ValueError as exc:
                raise RecordProblem(f"{item.meta['DisplayName']}: {exc}.") from None
            if item.direction == Direction.TO_ERP:
                erp_values[item.erp_field] = _comparable(value)
                continue
            if item.crm.is_list:
                if value is None:
                    crm_values[item.crm.name] = None
                    continue
                crm_id = self.lists.to_crm.get((item.meta["ListName"], str(value)))
                if crm_id is None:
                    raise RecordProblem(
                        f"{item.meta['DisplayName']}: the ERP item {value!r} of "
                        f"{item.meta['ListName']} is not mapped to a CRM {item.crm.crm_list}."
                    )
                crm_values[item.crm.name] = crm_id
                continue
            text = codec.plain(value)
            if item.crm.max_length and len(text) > item.crm.max_length:
                raise RecordProblem(
                    f"{item.meta['DisplayName']}: longer than the CRM's {item.crm.max_length} characters."
                )
            crm_values[item.crm.name] = text
        return crm_values, erp_values

    def _body(self, plan: ActorPlan, crm_values: dict, parent_id: int | None) -> dict:
        body: dict = {}
        for item in plan.direction(Direction.TO_CRM):
            if item.crm.name in crm_values:
                value = crm_values[item.crm.name]
                write(body, item.crm, value if value is not None else ("" if not item.crm.is_list else None))
        if parent_id is not None:
            body["Contact"] = {"ContactId": parent_id}
        return body

    def _apply(self, plan: ActorPlan, actor: dict, links: dict, parents: dict) -> None:
        key = actor["ErpKey"]
        crm_values, erp_values = self._to_crm_values(plan, actor)
        parent_id = None
        if plan.entity == "Person":
            parent_type, parent_key = actor.get("ParentActorType"), actor.get("ParentErpKey")
            parent_id = parents.get((parent_type, parent_key))
            if parent_id is None:
                raise RecordProblem(f"Its company ({parent_type} {parent_key}) is not synced to the CRM.")
        link = links.get(key)
        if link is not None and link.crm_id is None:
            link = self._resolve_pending(plan, link, crm_values)
        if link is None or link.crm_id is None:
            self._create(plan, actor, links, link, crm_values, erp_values, parent_id)
            return
        self._update(plan, link, crm_values, erp_values, parent_id, links)

    def _create(self, plan, actor, links, link, crm_values, erp_values, parent_id) -> None:
        key = actor["ErpKey"]
        if link is None:
            link = ErpLink.objects.create(
                connection=self.connection,
                actor_type=plan.actor_type,
                erp_key=key,
                crm_entity=plan.entity,
                pending_since=timezone.now(),
            )
            links[key] = link
        body = self._body(plan, crm_values, parent_id)
        try:
            crm_id = self._created_id(plan, self.crm.create(plan.entity, body))
        except CrmApiError as exc:
            if not exc.transient:
                raise
            # The CRM may have created the record before the answer was lost: adopt it if it did,
            # otherwise create it once more.
            self._resolve_pending(plan, link, crm_values)
            crm_id = link.crm_id or self._created_id(plan, self.crm.create(plan.entity, body))
        link.crm_id, link.pending_since = crm_id, None
        link.crm_values = {**crm_values, **({"Contact": parent_id} if parent_id else {})}
        link.erp_values = erp_values
        link.save(update_fields=["crm_id", "pending_since", "crm_values", "erp_values", "updated_at"])
        self.run.created += 1
        shown = ", ".join(
            f"{name}: {codec.plain(value)}" for name, value in crm_values.items() if value not in (None, "")
        )
        self.entry(
            LogKind.CREATED,
            direction=Direction.TO_CRM,
            actor_type=plan.actor_type,
            erp_key=key,
            crm_id=crm_id,
            new=shown,
            message=f"{plan.entity} created",
        )

    @staticmethod
    def _created_id(plan: ActorPlan, created: dict) -> int:
        crm_id = created.get(ID_FIELD[plan.entity])
        if not isinstance(crm_id, int):
            raise CrmApiError(f"The CRM API did not say the new {plan.entity}'s id.")
        return crm_id

    def _resolve_pending(self, plan: ActorPlan, link: ErpLink, crm_values: dict) -> ErpLink:
        """A link left pending by a run that died: adopt the CRM record it created, if it did."""
        probe = next(
            (
                (item.crm, crm_values[item.crm.name])
                for item in plan.direction(Direction.TO_CRM)
                if len(item.crm.path) == 1 and not item.crm.is_list and crm_values.get(item.crm.name)
            ),
            None,
        )
        if probe is None:
            return link
        target, value = probe
        since = link.pending_since - timedelta(seconds=1)
        taken = set(
            ErpLink.objects.filter(
                connection=self.connection, crm_entity=plan.entity, crm_id__isnull=False
            ).values_list("crm_id", flat=True)
        )
        query = f"{target.name} eq {odata_text(str(value))} and updated afterTime {odata_time(since)}"
        for row in self.crm.list(plan.entity, select=[ID_FIELD[plan.entity]], filter=query):
            crm_id = row.get(ID_FIELD[plan.entity])
            if isinstance(crm_id, int) and crm_id not in taken:
                link.crm_id, link.pending_since = crm_id, None
                link.save(update_fields=["crm_id", "pending_since", "updated_at"])
                return link
        return link

    def _update(self, plan, link: ErpLink, crm_values, erp_values, parent_id, links) -> None:
        changes = {name: value for name, value in crm_values.items() if link.crm_values.get(name) != value}
        if parent_id is not None and link.crm_values.get("Contact") != parent_id:
            changes["Contact"] = parent_id
        if changes:
            body = self._body(
                plan, {k: v for k, v in changes.items() if k != "Contact"}, changes.get("Contact")
            )
            try:
                self.crm.update(plan.entity, link.crm_id, body)
            except CrmNotFound:
                link.delete()
                links.pop(link.erp_key, None)
                raise RecordProblem(
                    f"The linked CRM {plan.entity} {link.crm_id} was deleted; the link was removed "
                    "and the record is created again when the ERP changes it."
                ) from None
            for name, value in changes.items():
                self.entry(
                    LogKind.CHANGE,
                    direction=Direction.TO_CRM,
                    actor_type=plan.actor_type,
                    erp_key=link.erp_key,
                    crm_id=link.crm_id,
                    field_name=name,
                    old=link.crm_values.get(name),
                    new=value,
                )
            self.run.updated += 1
        fresh_erp = {**link.erp_values, **erp_values}
        if changes or fresh_erp != link.erp_values:
            link.crm_values = {**link.crm_values, **changes}
            link.erp_values = fresh_erp
            link.save(update_fields=["crm_values", "erp_values", "updated_at"])

    # ---------------------------------------------------------------- CRM → ERP

    def _to_erp_value(self, item: FieldPlan, row: dict):
        raw = read(row, item.crm)
        field_type = item.meta["FieldType"]
        if item.crm.is_list:
            if raw in (None, 0):
                return None
            key = self.lists.to_erp.get((item.meta["ListName"], raw))
            if key is None:
                raise RecordProblem(
                    f"{item.crm.label}: the CRM item {raw} is not mapped to an item of the ERP's "
                    f"{item.meta['ListName']}."
                )
            return key
        if raw in (None, ""):
            return None
        text = str(raw)
        try:
            if field_type == FieldType.TEXT:
                value = text
            elif field_type == FieldType.DATE:
                value = _parse_time(text)
            elif field_type == FieldType.CHECKBOX:
                if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(f"{text[:40]!r} is not yes or no")
                value = text.lower() in ("1", "true", "yes")
            else:
                value = codec.decode(text, field_type)
        except (ValueError, ArithmeticError) as exc:
            raise RecordProblem(f"{item.meta['DisplayName']}: {exc}.") from None
        if item.meta["MaxLength"] and len(codec.plain(value)) > item.meta["MaxLength"]:
            raise RecordProblem(
                f"{item.meta['DisplayName']}: longer than the ERP's {item.meta['MaxLength']} characters."
            )
        return value

    def _push(self, plan: ActorPlan, *, everything: bool, no_blanks: bool) -> None:
        fields = [f for f in plan.direction(Direction.TO_ERP) if f.meta["Access"] != FieldAccess.READ_ONLY]
        if not fields:
            return
        links = {
            link.crm_id: link
            for link in ErpLink.objects.filter(
                connection=self.connection, actor_type=plan.actor_type, crm_id__isnull=False
            )
        }
        if not links:
            return
        id_field = ID_FIELD[plan.entity]
        select = sorted({id_field, "UpdatedDate", *(f.crm.top for f in fields)})
        query = ""
        since = ErpConnection.objects.filter(pk=self.connection.pk).values_list(
            "crm_pushed_until", flat=True
        )[0]
        if not everything:
            if since is None:
                return  # the first run links records; CRM changes count from then on
            query = f"updated afterTime {odata_time(since)}"
        self.progress(f"Sending {plan.actor_type} changes to the ERP", force=True)
        batch: list[tuple[ErpLink, dict, dict]] = []
        for row in self.crm.list(plan.entity, select=select, filter=query, order_by=f"{id_field} asc"):
            link = links.get(row.get(id_field))
            if link is None:
                continue
            if everything:
                self.run.total += 1
            try:
                changed = {}
                for item in fields:
                    raw = _blank(read(row, item.crm))
                    if not everything and raw == link.crm_values.get(item.crm.name):
                        continue  # unchanged in the CRM since it was last seen
                    value = _comparable(self._to_erp_value(item, row))
                    if no_blanks and value in (None, ""):
                        continue
                    changed[item.erp_field] = (link.erp_values.get(item.erp_field), value, item, raw)
            except RecordProblem as problem:
                self.problem(plan.actor_type, link.erp_key, str(problem), crm_id=link.crm_id)
                continue
            finally:
                if everything:
                    self.run.processed += 1
            if changed:
                batch.append((link, changed, row))
            if len(batch) >= PUSH_BATCH:
                self._save_actors(plan, batch)
                batch = []
            self.progress()
        if batch:
            self._save_actors(plan, batch)

    def _erp_actor(self, plan: ActorPlan, link: ErpLink, changed: dict) -> dict:
        values = {}
        for key, (_old, new, item, _raw) in changed.items():
            if isinstance(new, str) and item.meta["FieldType"] in (FieldType.DATE, FieldType.DOUBLE):
                new = _parse_time(new) if item.meta["FieldType"] == FieldType.DATE else new
            values[key] = codec.encode(new, item.meta["FieldType"])
        return {"ActorType": plan.actor_type, "ErpKey": link.erp_key, "FieldValues": values}

    def _save_actors(self, plan: ActorPlan, batch: list) -> None:
        actors = [self._erp_actor(plan, link, changed) for link, changed, _row in batch]
        try:
            self.connector.call("SaveActors", {"Actors": actors})
            saved = batch
        except ConnectorRefused:
            saved = []
            for item, actor in zip(batch, actors, strict=True):  # find which actor was refused
                try:
                    self.connector.call("SaveActors", {"Actors": [actor]})
                    saved.append(item)
                except ConnectorRefused as refused:
                    self.problem(
                        plan.actor_type,
                        item[0].erp_key,
                        f"The ERP refused the changes: {refused.user}",
                        crm_id=item[0].crm_id,
                    )
        for link, changed, _row in saved:
            for key, (old, new, _item, _raw) in changed.items():
                self.entry(
                    LogKind.CHANGE,
                    direction=Direction.TO_ERP,
                    actor_type=plan.actor_type,
                    erp_key=link.erp_key,
                    crm_id=link.crm_id,
                    field_name=key,
                    old=old,
                    new=new,
                )
            link.erp_values = {**link.erp_values, **{k: new for k, (_o, new, _i, _r) in changed.items()}}
            link.crm_values = {**link.crm_values, **{i.crm.name: raw for _o, _n, i, raw in changed.values()}}
            try:
                link.save(update_fields=["erp_values", "crm_values", "updated_at"])
            except IntegrityError:  # pragma: no cover - the link was removed meanwhile
                continue
            self.run.pushed += 1
        self.progress(force=True)


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

"""CRM → ERP: CRM records of linked actors changed since the last push (or all of them, for a resync)
are sent to the ERP with ``SaveActors``, the fields mapped "to ERP" that differ from what the ERP
last had; an actor the ERP refuses is logged and skipped."""

from __future__ import annotations

from django.db import IntegrityError

from ...crm import odata_time
from ...models import Direction, ErpConnection, ErpLink, FieldAccess, FieldType, LogKind
from .. import values as codec
from ..connector import ConnectorRefused
from ..crm_fields import ID_FIELD, read
from .base import PUSH_BATCH, ActorPlan, FieldPlan, RecordProblem, _blank, _comparable, _parse_time


class Push:
    """The CRM → ERP half of a run (mixed into engine.run.Run)."""

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

    def _current_erp_values(self, plan: ActorPlan, batch: list) -> list:
        """The batch with each field's old value as the ERP has it where the link does not know it (a
        field mapped "to ERP" since the actor was last read), one GetActors per batch; a field whose
        value the ERP already has is not sent, nor an actor left with nothing to send."""
        unknown = {
            link.erp_key: [key for key in changed if key not in link.erp_values]
            for link, changed, _row in batch
        }
        fields = sorted({key for keys in unknown.values() for key in keys})
        keys = [key for key, missing in unknown.items() if missing]
        if not keys:
            return batch
        answer = self.connector.call(
            "GetActors", {"ActorType": plan.actor_type, "ErpKeys": keys, "FieldKeys": fields}
        )
        current = {}
        for actor in answer.get("Actors") or []:
            if isinstance(actor, dict) and isinstance(actor.get("FieldValues"), dict):
                current[actor.get("ErpKey")] = actor["FieldValues"]
        kept, settled = [], []
        for link, changed, row in batch:
            values = current.get(link.erp_key, {})
            for key in unknown[link.erp_key]:
                old, new, item, raw = changed[key]
                try:
                    old = _comparable(codec.decode(values[key], item.meta["FieldType"]))
                except (KeyError, ValueError, TypeError):
                    continue  # the ERP did not say: the change is sent, logged from blank
                if old == new:
                    del changed[key]
                    link.erp_values = {**link.erp_values, key: old}
                    link.crm_values = {**link.crm_values, item.crm.name: raw}
                else:
                    changed[key] = (old, new, item, raw)
            if changed:
                kept.append((link, changed, row))
            else:
                settled.append(link)
        ErpLink.objects.bulk_update(settled, ["erp_values", "crm_values"])
        return kept

    def _save_actors(self, plan: ActorPlan, batch: list) -> None:
        batch = self._current_erp_values(plan, batch)
        if not batch:
            return
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

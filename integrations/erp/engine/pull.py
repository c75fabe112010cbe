"""ERP → CRM: per enabled actor type, the actors changed on or after its timestamp (and those skipped
last time, by key) are created or updated in the CRM and linked; a record that breaks the contract
or the mapping is logged and skipped, never half applied."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ...crm import CrmApiError, CrmNotFound, CrmRefused, odata_text, odata_time
from ...models import Direction, ErpConnection, ErpLink, LogKind
from .. import values as codec
from ..crm_fields import COMPANY_TYPES, ID_FIELD, write
from .base import MAX_RETRY_KEYS, PAGE, ActorPlan, RecordProblem, RunAborted, _comparable, _iso, _parse_time


class Pull:
    """The ERP → CRM half of a run (mixed into engine.run.Run, which provides connector, crm, run,
    connection, lists, progress() and problem())."""

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

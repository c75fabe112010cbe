"""The mapping of a connection: which actor types sync, each ERP field's CRM field and direction,
and ERP list items paired with CRM list items. Validation names the field that is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record

from ...calls import CallRecorder
from ...crm import CrmApi, CrmApiError
from ...models import (
    ActorTypeMapping,
    Direction,
    ErpConnection,
    FieldAccess,
    FieldMapping,
    FieldType,
    ListItemMapping,
)
from ..crm_fields import CRM_FIELDS, ENTITY_OF, PLAIN_TYPES, crm_field


def list_items(raw: object) -> list[dict]:
    """ListItems from a connector answer: [{"Key", "Value"}] with text keys."""
    if not isinstance(raw, list):
        return []
    items = []
    for item in raw:
        if isinstance(item, dict) and item.get("Key") not in (None, ""):
            items.append(
                {"Key": str(item["Key"])[:120], "Value": str(item.get("Value") or item["Key"])[:200]}
            )
    return items


def _auto_crm_field(entity: str, field: dict) -> str:
    """A CRM field with the ERP field's key (case-insensitive) and a compatible type, else ""."""
    candidate = next(
        (f for name, f in CRM_FIELDS[entity].items() if name.lower() == field["FieldKey"].lower()), None
    )
    if candidate is None or type_problem(field, candidate.name, entity):
        return ""
    return candidate.name


def merge_fields(*, connection: ErpConnection, actor_type: str, fields: list[dict]) -> ActorTypeMapping:
    """Take the connector's current fields for an actor type: new ones auto-mapped by key (to CRM),
    vanished ones marked missing, returning ones unmarked."""
    entity = ENTITY_OF[actor_type]
    actor, _ = ActorTypeMapping.objects.get_or_create(
        connection=connection, actor_type=actor_type, defaults={"crm_entity": entity}
    )
    actor.erp_fields = fields
    actor.save(update_fields=["erp_fields"])
    existing = {m.erp_field: m for m in actor.fields.all()}
    offered = {f["FieldKey"]: f for f in fields if f["FieldType"] != FieldType.LABEL}
    new = []
    for key, field in offered.items():
        if key in existing:
            continue
        crm = _auto_crm_field(entity, field)
        new.append(
            FieldMapping(
                actor_mapping=actor,
                erp_field=key,
                crm_field=crm,
                direction=Direction.TO_CRM if crm else Direction.OFF,
            )
        )
    FieldMapping.objects.bulk_create(new)
    FieldMapping.objects.filter(actor_mapping=actor).exclude(erp_field__in=offered).update(missing=True)
    FieldMapping.objects.filter(actor_mapping=actor, erp_field__in=offered, missing=True).update(
        missing=False
    )
    return actor


def type_problem(field: dict, crm_name: str, entity: str) -> str:
    """Why an ERP field cannot pair with a CRM field, or ""."""
    target = crm_field(entity, crm_name)
    if target is None:
        return f"{crm_name} is not a {entity} field of the CRM."
    if field["FieldType"] == FieldType.LIST:
        return (
            ""
            if target.is_list
            else f"{field['DisplayName']} is a list and pairs only with a CRM list field."
        )
    if target.is_list:
        return f"{target.label} is a CRM list and pairs only with an ERP list field."
    if field["FieldType"] not in PLAIN_TYPES:
        return f"{field['DisplayName']} ({FieldType(field['FieldType']).label}) cannot be synced."
    return ""


@dataclass(frozen=True)
class MappingRow:
    actor_type: str
    erp_field: str
    crm_field: str
    direction: str


def save_mapping(
    *, user, connection: ErpConnection, enabled: dict[str, bool], rows: list[MappingRow]
) -> None:
    """Replace the mapping; ValidationError keyed "<ActorType>.<FieldKey>" for each bad row."""
    from .connections import require_admin

    require_admin(user, connection.authorization)
    actors = {a.actor_type: a for a in connection.actor_mappings.prefetch_related("fields")}
    errors: dict[str, str] = {}
    changes: list[tuple[FieldMapping, str, str]] = []
    targets: dict[tuple[str, str], str] = {}
    for row in rows:
        key = f"{row.actor_type}.{row.erp_field}"
        actor = actors.get(row.actor_type)
        current = (
            next((m for m in actor.fields.all() if m.erp_field == row.erp_field), None) if actor else None
        )
        if current is None:
            errors[key] = f"{row.erp_field} is not a field of {row.actor_type} on this connection."
            continue
        meta = next((f for f in actor.erp_fields if f["FieldKey"] == row.erp_field), None)
        direction = row.direction if row.direction in Direction.values else None
        if direction is None:
            errors[key] = f"{row.erp_field}: choose To CRM, To ERP or Not synced."
            continue
        crm = row.crm_field.strip()
        if direction != Direction.OFF:
            if current.missing or meta is None:
                errors[key] = f"{row.erp_field} is no longer offered by the connector; it cannot be synced."
                continue
            if not crm:
                errors[key] = f"{meta['DisplayName']}: choose the CRM field it syncs with."
                continue
            problem = type_problem(meta, crm, actor.crm_entity)
            if problem:
                errors[key] = problem
                continue
            if direction == Direction.TO_ERP and meta["Access"] == FieldAccess.READ_ONLY:
                errors[key] = f"{meta['DisplayName']} is read-only in the ERP; it can only sync to the CRM."
                continue
            taken = targets.get((row.actor_type, crm))
            if taken is not None:
                first_key, first_name = taken
                target = crm_field(actor.crm_entity, crm)
                label = target.label if target else crm
                errors[key] = (
                    f"The CRM field {label} is already mapped from the ERP field {first_name}; "
                    f"a CRM field takes one ERP field."
                )
                errors.setdefault(
                    first_key,
                    f"The CRM field {label} is also mapped from the ERP field {meta['DisplayName']}; "
                    f"a CRM field takes one ERP field.",
                )
                continue
            targets[(row.actor_type, crm)] = (key, meta["DisplayName"])
        changes.append((current, crm, direction))
    offered = set(connection.actor_types or [])
    for actor_type, on in enabled.items():
        if actor_type not in actors:
            errors[f"{actor_type}.enabled"] = f"{actor_type} is not an actor type of this connection."
        elif on and actor_type not in offered and not actors[actor_type].enabled:
            errors[f"{actor_type}.enabled"] = (
                f"{actor_type} is no longer offered by the connector; it cannot be turned on."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for actor_type, on in enabled.items():
            ActorTypeMapping.objects.filter(pk=actors[actor_type].pk).update(enabled=on)
        for current, crm, direction in changes:
            if (current.crm_field, current.direction) != (crm, direction):
                current.crm_field, current.direction = crm, direction
                current.save(update_fields=["crm_field", "direction"])
        if connection.is_active:
            issues = activation_issues(connection)
            if issues:  # an active connection keeps a mapping it can sync with: nothing is saved
                raise ValidationError({
                    key: f"{message} The connection is active: deactivate it first to save such a mapping."
                    for key, message in issues.items()
                })
        record(
            event_type="erp_connection.mapping_saved",
            actor=user,
            app=connection.app,
            tenant=connection.tenant,
            message=f"ERP connection {connection.name} mapping saved",
        )


def activation_issues(connection: ErpConnection) -> dict[str, str]:
    """What keeps the connection from being activated, keyed like save_mapping's errors
    ("<ActorType>.<FieldKey>", "<ActorType>.enabled", or "__all__"), in plain words."""
    actors = list(connection.actor_mappings.filter(enabled=True).prefetch_related("fields"))
    if not actors:
        return {"__all__": "Turn on at least one actor type to sync."}
    issues = {}
    offered = set(connection.actor_types or [])
    for actor in actors:
        if actor.actor_type not in offered:
            issues[f"{actor.actor_type}.enabled"] = (
                f"{actor.actor_type} is no longer offered by the connector: turn it off."
            )
            continue
        mapped = {m.erp_field: m for m in actor.fields.all()}
        for meta in actor.erp_fields:
            if meta["Access"] != FieldAccess.MANDATORY:
                continue
            current = mapped.get(meta["FieldKey"])
            if current is None or current.direction == Direction.OFF or not current.crm_field:
                issues[f"{actor.actor_type}.{meta['FieldKey']}"] = (
                    f"The mandatory field {meta['DisplayName']} needs a direction."
                )
    companies = {a.actor_type for a in actors if a.crm_entity == "Contact"}
    persons = [a.actor_type for a in actors if a.crm_entity == "Person"]
    if persons and not companies:
        issues[f"{persons[0]}.enabled"] = (
            "Persons sync under their company: turn on a company actor type too."
        )
    return issues


def activation_problems(connection: ErpConnection) -> list[str]:
    """What keeps the connection from being activated, in plain words (empty when nothing)."""
    return [
        message
        if key == "__all__" or key.endswith(".enabled")
        else f"{key.split('.')[0]}: {message[0].lower()}{message[1:]}"
        for key, message in activation_issues(connection).items()
    ]


def refresh_list_items(*, connection: ErpConnection, fetch: Callable[[str, dict], dict]) -> None:
    """Fetch the ERP and CRM items of every mapped list field and pair new ERP items with the CRM
    item of the same name; pairs the admin chose are kept."""
    wanted: dict[str, str] = {}
    for actor in connection.actor_mappings.prefetch_related("fields"):
        metas = {f["FieldKey"]: f for f in actor.erp_fields}
        for current in actor.fields.all():
            meta = metas.get(current.erp_field)
            target = crm_field(actor.crm_entity, current.crm_field) if current.crm_field else None
            if (
                meta
                and meta["FieldType"] == FieldType.LIST
                and target
                and target.is_list
                and meta["ListName"]
            ):
                wanted[meta["ListName"]] = target.crm_list
    if not wanted:
        return
    recorder = CallRecorder(
        app_id=connection.app_id, tenant_id=connection.tenant_id, connection_id=connection.pk
    )
    crm = CrmApi(connection.authorization, recorder)
    try:
        for erp_list, crm_list in wanted.items():
            erp_items = list_items(fetch("GetList", {"ListName": erp_list}).get("Items"))
            try:
                crm_items = crm.list_items(crm_list)
            except CrmApiError:
                crm_items = []
            by_name = {str(item.get("Name", "")).lower(): item for item in crm_items}
            existing = {
                m.erp_key: m for m in ListItemMapping.objects.filter(connection=connection, erp_list=erp_list)
            }
            for item in erp_items:
                current = existing.get(item["Key"])
                if current is not None and current.crm_list == crm_list and current.crm_id is not None:
                    if current.erp_value != item["Value"]:
                        current.erp_value = item["Value"]
                        current.save(update_fields=["erp_value"])
                    continue
                match = by_name.get(item["Value"].lower()) or by_name.get(item["Key"].lower())
                ListItemMapping.objects.update_or_create(
                    connection=connection,
                    erp_list=erp_list,
                    erp_key=item["Key"],
                    defaults={
                        "erp_value": item["Value"],
                        "crm_list": crm_list,
                        "crm_id": match.get("Id") if match else None,
                        "crm_name": str(match.get("Name", "")) if match else "",
                    },
                )
    finally:
        crm.close()
        recorder.flush()


def crm_list_choices(connection: ErpConnection) -> dict[str, list[dict]]:
    """The CRM items of each CRM list the connection's list mappings use, for the list-item form."""
    lists = set(ListItemMapping.objects.filter(connection=connection).values_list("crm_list", flat=True))
    if not lists:
        return {}
    recorder = CallRecorder(
        app_id=connection.app_id, tenant_id=connection.tenant_id, connection_id=connection.pk
    )
    crm = CrmApi(connection.authorization, recorder)
    try:
        return {name: crm.list_items(name) for name in sorted(lists)}
    finally:
        crm.close()
        recorder.flush()


def save_list_mapping(
    *, user, connection: ErpConnection, choices: dict[int, int | None], allowed: dict[str, dict[int, str]]
) -> None:
    """Pair ERP list items (by ListItemMapping id) with CRM item ids, of the CRM items ``allowed`` (per
    CRM list, id → name); ValidationError per item."""
    from .connections import require_admin

    require_admin(user, connection.authorization)
    rows = {m.pk: m for m in ListItemMapping.objects.filter(connection=connection, pk__in=list(choices))}
    errors = {}
    for pk, crm_id in choices.items():
        row = rows.get(pk)
        if row is None:
            errors[f"item-{pk}"] = "Not a list item of this connection."
        elif crm_id is not None and crm_id not in allowed.get(row.crm_list, {}):
            errors[f"item-{pk}"] = f"{row.erp_value}: choose an item of the CRM's {row.crm_list} list."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for pk, crm_id in choices.items():
            name = "" if crm_id is None else allowed[rows[pk].crm_list][crm_id]
            ListItemMapping.objects.filter(pk=pk).update(crm_id=crm_id, crm_name=name[:200])
        record(
            event_type="erp_connection.lists_saved",
            actor=user,
            app=connection.app,
            tenant=connection.tenant,
            message=f"ERP connection {connection.name} list items mapped",
        )

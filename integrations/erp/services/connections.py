"""Setting up an ERP connection (SPEC §10): the connector's configuration fields, testing them,
saving the connection under a new GUID, fetching actor types and their fields, activation,
the schedule and deletion. Only the tenant's administrators may do any of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.models import AuditEntry
from audit.services import record
from provisioning.models import Authorization
from provisioning.services.authorizations import tenant_admin

from ... import handshake
from ...models import ActorTypeMapping, ErpConnection, FieldAccess, FieldType
from .. import values as codec
from ..connector import ConnectorError
from ..crm_fields import ENTITY_OF
from . import mapping, schedule
from .target import EndpointOff, config_values, connector_for, erp_endpoint, recorder_for, set_config_values

MIN_INTERVAL, MAX_INTERVAL = 30, 24 * 3600
SETUP_ERRORS = (ConnectorError, handshake.HandshakeFailed, EndpointOff)


class SetupRefused(Exception):  # noqa: N818 - shown to the tenant admin as it is
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TestResult:
    ok: bool
    explanation: str


def require_admin(user, authorization: Authorization) -> None:
    if tenant_admin(user, authorization.tenant) is None:
        raise PermissionDenied(
            f"Only the administrators of {authorization.tenant.company_name} can manage ERP connections."
        )


def _next_rank(authorization: Authorization) -> int:
    """After the company's last connection."""
    ranks = ErpConnection.objects.filter(tenant=authorization.tenant).values_list("rank", flat=True)
    return min(999, max(ranks, default=0) + 1)


def ensure_usable(authorization: Authorization) -> None:
    tenant = authorization.tenant
    if not tenant.is_running:
        raise SetupRefused(
            f"The CRM of {tenant.company_name} is {tenant.get_state_display().lower()}: "
            f"nothing is synced until it runs again."
        )
    if not authorization.is_usable:
        raise SetupRefused(
            f"{authorization.app.name} is not authorized for this company ({authorization.current_status})."
        )
    if erp_endpoint(authorization) is None:
        raise SetupRefused(
            f"{authorization.app.name} does not offer ERP sync in {authorization.tenant.environment.code}."
        )


def _explained(exc: Exception) -> str:
    return getattr(exc, "user", None) or str(exc)


def _call(
    authorization: Authorization,
    operation: str,
    payload: dict | None = None,
    connection: ErpConnection | None = None,
    **kwargs,
) -> dict:
    recorder = recorder_for(authorization, connection)
    try:
        client = connector_for(authorization, recorder, connection, interactive=True)
    except EndpointOff as exc:
        raise SetupRefused(str(exc)) from None
    try:
        return client.call(operation, payload, **kwargs)
    except SETUP_ERRORS as exc:
        raise SetupRefused(_explained(exc)) from None
    finally:
        client.close()
        recorder.flush()


def field_metadata(raw: object, where: str) -> list[dict]:
    """FieldMetadata from a connector answer, checked; SetupRefused names what is wrong."""
    if not isinstance(raw, list):
        raise SetupRefused(f"The connector's {where} is not a list of fields.")
    fields, seen = [], set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("FieldKey"), str) or not item["FieldKey"]:
            raise SetupRefused(f"The connector's {where} has a field without a FieldKey.")
        key = item["FieldKey"][:80]
        if key.lower() in seen:
            raise SetupRefused(f"The connector's {where} names the field {key} twice.")
        seen.add(key.lower())
        try:
            field_type = FieldType(int(item.get("FieldType", FieldType.TEXT)))
            access = FieldAccess(int(item.get("Access", FieldAccess.NORMAL)))
        except (TypeError, ValueError):
            raise SetupRefused(f"The connector's field {key} has an unknown FieldType or Access.") from None
        fields.append(
            {
                "FieldKey": key,
                "DisplayName": str(item.get("DisplayName") or key)[:120],
                "DisplayDescription": str(item.get("DisplayDescription") or "")[:500],
                "FieldType": int(field_type),
                "ListName": str(item.get("ListName") or "")[:80],
                "DefaultValue": ""
                if item.get("DefaultValue") is None
                else str(item.get("DefaultValue"))[:500],
                "MaxLength": max(0, int(item.get("MaxLength") or 0))
                if str(item.get("MaxLength") or 0).isdigit()
                else 0,
                "Access": int(access),
                "Rank": int(item["Rank"]) if isinstance(item.get("Rank"), int) else 0,
            }
        )
    return sorted(fields, key=lambda f: (f["Rank"], f["FieldKey"].lower()))


def config_fields(*, user, authorization: Authorization) -> list[dict]:
    """GetConfigData: the fields the connection form shows."""
    require_admin(user, authorization)
    ensure_usable(authorization)
    return field_metadata(
        _call(authorization, "GetConfigData", with_connection=False).get("Fields"), "configuration fields"
    )


def list_choices(*, user, authorization: Authorization, fields: list[dict]) -> dict[str, list[dict]]:
    """The items of every List configuration field, by ListName (GetList without a connection)."""
    require_admin(user, authorization)
    choices = {}
    for field in fields:
        if field["FieldType"] == FieldType.LIST and field["ListName"] and field["ListName"] not in choices:
            answer = _call(authorization, "GetList", {"ListName": field["ListName"]}, with_connection=False)
            choices[field["ListName"]] = mapping.list_items(answer.get("Items"))
    return choices


def clean_config(fields: list[dict], raw: dict[str, str]) -> dict[str, str]:
    """The values to send, encoded; ValidationError per field for what is missing or malformed."""
    errors, values = {}, {}
    for field in fields:
        key, field_type = field["FieldKey"], field["FieldType"]
        if field_type == FieldType.LABEL:
            continue
        text = (raw.get(key) or "").strip() if field_type != FieldType.PASSWORD else (raw.get(key) or "")
        if field["Access"] == FieldAccess.READ_ONLY:
            text = field["DefaultValue"]
        if field_type == FieldType.CHECKBOX:
            text = "[I:1]" if text in ("1", "on", "true", "True", "[I:1]") else "[I:0]"
        elif text and field_type in (FieldType.INTEGER, FieldType.DOUBLE, FieldType.DATE):
            try:
                text = codec.encode(
                    codec.decode(text, field_type)
                    if text.startswith("[")
                    else _parse_plain(text, field_type),
                    field_type,
                )
            except (ValueError, ArithmeticError) as exc:
                errors[key] = f"{field['DisplayName']}: {exc}."
                continue
        if not text and field["Access"] == FieldAccess.MANDATORY:
            errors[key] = f"{field['DisplayName']} is required."
            continue
        if field["MaxLength"] and len(text) > field["MaxLength"]:
            errors[key] = f"{field['DisplayName']} has at most {field['MaxLength']} characters."
            continue
        values[key] = text
    if errors:
        raise ValidationError(errors)
    return values


def _parse_plain(text: str, field_type: int):
    from datetime import date, datetime

    if field_type == FieldType.INTEGER:
        return int(text)
    if field_type == FieldType.DOUBLE:
        return text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())


def _data_values(values: dict, fields: list[dict]) -> dict:
    """The values that say which ERP data a connection reaches: its mandatory fields (a database, an
    address, an account), or, where the connector marks none, every field; passwords never (they
    change without the data changing), nor options such as checkboxes and lists."""
    def keys(access: set[int]) -> set[str]:
        return {
            f["FieldKey"]
            for f in fields
            if f["Access"] in access and f["FieldType"] in (FieldType.TEXT, FieldType.INTEGER)
        }

    wanted = keys({FieldAccess.MANDATORY}) or keys({FieldAccess.MANDATORY, FieldAccess.NORMAL})
    return {key: str(values.get(key, "")).strip().casefold() for key in sorted(wanted)}


def refuse_twin(authorization: Authorization, values: dict, fields: list[dict], exclude: int | None = None):
    """Two connections of one app and company with the same configuration would sync each ERP record
    into the CRM twice: refused, the other one named."""
    mine = _data_values(values, fields)
    if not mine:
        return
    for other in ErpConnection.objects.filter(authorization=authorization).exclude(pk=exclude):
        if _data_values(config_values(other), fields) == mine:
            raise ValidationError({"__all__": (
                f"The connection {other.name} already reaches the ERP with this configuration; a second one "
                f"would create every record in the CRM again. Change {other.name} instead."
            )})


def test_config(*, user, authorization: Authorization, values: dict) -> TestResult:
    """TestConfigData: whether the connector accepts the values, with its explanation."""
    require_admin(user, authorization)
    ensure_usable(authorization)
    try:
        answer = _call(authorization, "TestConfigData", {"ConfigFields": values}, with_connection=False)
    except SetupRefused as refused:
        return TestResult(False, refused.message)
    return TestResult(True, str(answer.get("UserExplanation") or "The connector accepted the configuration."))


def create_connection(
    *, user, authorization: Authorization, name: str, values: dict, fields: list[dict]
) -> ErpConnection:
    """Test, then SaveConnection under a new GUID, TestConnection and fetch actor types and fields."""
    require_admin(user, authorization)
    ensure_usable(authorization)
    name = " ".join((name or "").split()) or authorization.app.name
    if len(name) > 120:
        raise ValidationError({"name": "A name has at most 120 characters."})
    refuse_twin(authorization, values, fields)
    tested = test_config(user=user, authorization=authorization, values=values)
    if not tested.ok:
        raise SetupRefused(tested.explanation)
    connection = ErpConnection(
        tenant=authorization.tenant,
        app=authorization.app,
        authorization=authorization,
        name=name,
        config_fields=fields,
        connection_id=uuid.uuid4(),
        created_by=user,
        rank=_next_rank(authorization),
    )
    set_config_values(connection, values)
    _call(authorization, "SaveConnection", {"ConfigFields": values}, connection=connection)
    try:
        _call(authorization, "TestConnection", connection=connection)
        with transaction.atomic():
            connection.save()
            record(
                event_type="erp_connection.created",
                actor=user,
                source=AuditEntry.Source.PORTAL,
                app=authorization.app,
                tenant=authorization.tenant,
                message=f"ERP connection {name} ({connection.connection_id}) created",
            )
        refresh_actor_types(user=user, connection=connection)
    except SetupRefused:
        # The connector knows a connection the platform does not keep: tell it to forget it.
        try:
            _call(authorization, "DeleteConnection", connection=connection)
        except SetupRefused:
            pass
        if connection.pk:
            connection.delete()
        raise
    return connection


def register_connection(
    *, user, authorization: Authorization, name: str, values: dict, sync_interval: int = 60
) -> ErpConnection:
    """An active connection recorded without asking the connector (the demo data, imports): the first
    run introduces it (UNKNOWN_CONNECTION_ID makes the client send SaveConnection) and fetches its
    actor types and fields, auto-mapped by key."""
    require_admin(user, authorization)
    if not MIN_INTERVAL <= sync_interval <= MAX_INTERVAL:
        raise ValidationError(
            {"sync_interval": f"The interval is between {MIN_INTERVAL} seconds and 24 hours."}
        )
    connection = ErpConnection(
        tenant=authorization.tenant,
        app=authorization.app,
        authorization=authorization,
        name=" ".join(name.split())[:120] or authorization.app.name,
        connection_id=uuid.uuid4(),
        created_by=user,
        sync_interval=sync_interval,
        is_active=True,
        rank=_next_rank(authorization),
    )
    set_config_values(connection, values)
    with transaction.atomic():
        connection.save()
        record(
            event_type="erp_connection.created",
            actor=user,
            app=authorization.app,
            tenant=authorization.tenant,
            message=f"ERP connection {connection.name} ({connection.connection_id}) registered and activated",
        )
        schedule.reschedule(connection.tenant)
    return connection


def update_config(*, user, connection: ErpConnection, values: dict, fields: list[dict]) -> str:
    """Test and save a connection's configuration, then fetch its actor types and fields again (the
    configuration may change what the ERP offers); returns what the administrator should know.

    A connection is tied to the ERP data it reaches: once records are linked, the values that say
    which data that is (see _data_values) stay as they are, since the other data's keys would land on
    the linked CRM records. Other ERP data gets a connection of its own."""
    authorization = connection.authorization
    require_admin(user, authorization)
    ensure_usable(authorization)
    refuse_twin(authorization, values, fields, exclude=connection.pk)
    previous = config_values(connection)
    linked = connection.links.count()
    if linked:
        saved, wanted = _data_values(previous, fields), _data_values(values, fields)
        names = {f["FieldKey"]: f["DisplayName"] for f in fields}
        records = "1 ERP record is" if linked == 1 else f"{linked} ERP records are"
        changed = {
            key: (
                f"{names.get(key, key)} says which ERP data this connection reaches, and {records} linked "
                f"to CRM records through it: it stays {previous.get(key, '')!s}. "
                f"For other ERP data, make a new connection."
            )
            for key in wanted
            if saved.get(key) != wanted[key]
        }
        if changed:
            raise ValidationError(changed)
    tested = test_config(user=user, authorization=authorization, values=values)
    if not tested.ok:
        raise SetupRefused(tested.explanation)
    set_config_values(connection, values)
    try:
        _call(authorization, "SaveConnection", {"ConfigFields": values}, connection=connection)
    except SetupRefused:
        set_config_values(connection, previous)
        raise
    with transaction.atomic():
        connection.config_fields = fields
        connection.save(update_fields=["config_encrypted", "config_fields", "updated_at"])
        record(
            event_type="erp_connection.configured",
            actor=user,
            app=connection.app,
            tenant=connection.tenant,
            message=f"ERP connection {connection.name} configuration saved",
        )
    mappings = dict(connection.actor_mappings.values_list("actor_type", "enabled"))
    offered_before = set(connection.actor_types or [])
    try:
        refresh_actor_types(user=user, connection=connection)
    except SetupRefused as refused:
        return f"The actor types and fields were not fetched again: {refused.message}"
    offered = set(connection.actor_types)
    gone = sorted(t for t, enabled in mappings.items() if enabled and t not in offered)
    now_off = set(connection.actor_mappings.filter(enabled=False).values_list("actor_type", flat=True))
    new = sorted((offered - offered_before) & now_off)
    notes = []
    if gone:
        notes.append(f"The connector no longer offers {', '.join(gone)} with this configuration; "
                     f"{'it was' if len(gone) == 1 else 'they were'} turned off in the field mapping.")
    if new:
        one = len(new) == 1
        notes.append(f"The connector now offers {', '.join(new)}: turn {'it' if one else 'them'} on in "
                     f"the field mapping to sync {'it' if one else 'them'}.")
    return " ".join(notes)


def refresh_actor_types(*, user, connection: ErpConnection) -> None:
    """GetSupportedActorTypes and each type's fields, asked by a tenant admin."""
    authorization = connection.authorization
    require_admin(user, authorization)
    fetch_actor_types(
        connection=connection,
        call=lambda operation, payload=None: _call(authorization, operation, payload, connection=connection),
    )


def offered_actor_types(call: Callable[..., dict]) -> list[str]:
    """GetSupportedActorTypes through ``call``: the types the platform syncs, in the connector's order;
    SetupRefused when the answer breaks the contract."""
    types = call("GetSupportedActorTypes").get("ActorTypes")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise SetupRefused("The connector's actor types are not a list of names.")
    return [t for t in types if t in ENTITY_OF]


def fetch_actor_types(*, connection: ErpConnection, call: Callable[..., dict]) -> None:
    """GetSupportedActorTypes and each type's fields through ``call(operation, payload)``; new fields
    are added and auto-mapped by key, vanished ones marked missing, list items fetched. Raises
    SetupRefused when an answer breaks the contract."""
    known = offered_actor_types(call)
    fetched = {}
    for actor_type in known:
        fields = call("GetSupportedActorTypeFields", {"ActorType": actor_type}).get("Fields")
        fetched[actor_type] = field_metadata(fields, f"fields of {actor_type}")
    with transaction.atomic():
        connection.actor_types = known
        connection.save(update_fields=["actor_types", "updated_at"])
        for actor_type, fields in fetched.items():
            mapping.merge_fields(connection=connection, actor_type=actor_type, fields=fields)
        ActorTypeMapping.objects.filter(connection=connection).exclude(actor_type__in=known).update(
            enabled=False
        )
    mapping.refresh_list_items(connection=connection, fetch=call)


def set_schedule(*, user, connection: ErpConnection, sync_interval: int, rank: int) -> None:
    require_admin(user, connection.authorization)
    errors = {}
    if not MIN_INTERVAL <= sync_interval <= MAX_INTERVAL:
        errors["sync_interval"] = f"The interval is between {MIN_INTERVAL} seconds and 24 hours."
    if not 1 <= rank <= 999:
        errors["rank"] = "The rank is between 1 and 999."
    else:
        taken = (
            ErpConnection.objects.filter(tenant=connection.tenant, rank=rank)
            .exclude(pk=connection.pk)
            .first()
        )
        if taken is not None:
            errors["rank"] = (
                f"{taken.name} has rank {rank}: give each connection of the company its own rank, "
                f"so the order they run in is clear."
            )
    if errors:
        raise ValidationError(errors)
    connection.sync_interval, connection.rank = sync_interval, rank
    connection.save(update_fields=["sync_interval", "rank", "updated_at"])
    schedule.reschedule(connection.tenant)


def activate(*, user, connection: ErpConnection) -> None:
    require_admin(user, connection.authorization)
    ensure_usable(connection.authorization)
    problems = mapping.activation_problems(connection)
    if problems:
        raise SetupRefused(" ".join(problems))
    connection.is_active = True
    connection.save(update_fields=["is_active", "updated_at"])
    schedule.reschedule(connection.tenant)
    record(
        event_type="erp_connection.activated",
        actor=user,
        app=connection.app,
        tenant=connection.tenant,
        message=f"ERP connection {connection.name} activated",
    )


def deactivate(*, user, connection: ErpConnection) -> None:
    require_admin(user, connection.authorization)
    connection.is_active = False
    connection.save(update_fields=["is_active", "updated_at"])
    schedule.reschedule(connection.tenant)
    record(
        event_type="erp_connection.deactivated",
        actor=user,
        app=connection.app,
        tenant=connection.tenant,
        message=f"ERP connection {connection.name} deactivated",
    )


def delete_connection(*, user, connection: ErpConnection) -> str:
    """DeleteConnection at the connector, then the connection, its links and logs; returns a warning
    when the connector could not be told."""
    from .runs import acquire, release

    require_admin(user, connection.authorization)
    # The run lock keeps a run from writing through a connection that is going away; a run in
    # progress holds it, so deleting waits for the run to end.
    lock = acquire(connection)
    if lock is None:
        raise SetupRefused(
            "A run of this connection is in progress. Deactivate the connection, wait for the run to end, "
            "then delete it."
        )
    warning = ""
    try:
        _call(connection.authorization, "DeleteConnection", connection=connection)
    except SetupRefused as refused:
        warning = f"The connector was not told ({refused.message}); it may still list the connection."
    except BaseException:
        release(connection, lock)
        raise
    tenant, name, guid = connection.tenant, connection.name, connection.connection_id
    with transaction.atomic():
        connection.delete()
        record(
            event_type="erp_connection.deleted",
            actor=user,
            app=connection.app,
            tenant=tenant,
            message=f"ERP connection {name} ({guid}) deleted",
        )
    schedule.reschedule(tenant)
    return warning

"""Reference ERP connector: the partner's side of the platform's ERP sync (JSON over HTTPS).

A partner copies this folder, points the settings file at its own app and runs it. It keeps a
small ERP of its own in SQLite and talks to the platform over HTTP only (the JWKS, for the
handshake); it imports nothing from the platform.

Run from the platform checkout:   python -m examples.erp_connector
or on its own:                     python examples/erp_connector/app.py
Settings: a JSON file named by ERP_SETTINGS (default var/demo/acme.json); see README.md.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

try:
    from . import store
    from .handshake import HandshakeError, JwksCache, sign_reply, tenant_of, verify_token
    from .protocol import (
        CHECKBOX,
        DATE,
        DOUBLE,
        INTEGER,
        LABEL,
        LIST,
        MANDATORY,
        PASSWORD,
        READ_ONLY,
        TEXT,
        Field,
        FieldValueError,
        decode,
        encode,
        encode_date,
        encode_float,
        encode_int,
        ok,
        parse_timestamp,
        refused,
        utc_now,
    )
except ImportError:  # run as a script: python examples/erp_connector/app.py
    import store  # type: ignore[no-redef]
    from handshake import HandshakeError, JwksCache, sign_reply, tenant_of, verify_token  # type: ignore
    from protocol import (  # type: ignore
        CHECKBOX,
        DATE,
        DOUBLE,
        INTEGER,
        LABEL,
        LIST,
        MANDATORY,
        PASSWORD,
        READ_ONLY,
        TEXT,
        Field,
        FieldValueError,
        decode,
        encode,
        encode_date,
        encode_float,
        encode_int,
        ok,
        parse_timestamp,
        refused,
        utc_now,
    )

DEFAULT_SETTINGS = "var/demo/acme.json"
DEFAULT_DATABASE = "var/demo/erp.sqlite3"
DEFAULT_PORT = 8002
REQUIRED_SETTINGS = ("issuer", "client_id", "private_key_pem")
CALLS_KEPT = 50
MAX_TAKE = 1000  # GetActorsByTimestamp pages at most this many actors
SEARCH_LIMIT = 1000  # the search operations answer at most this many actors
MAX_KEYS = 1000  # GetActors / GetListItems take at most this many keys
COMPANIES_SHOWN = 50
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
OPERATORS = ("equals", "notEquals", "contains", "begins", "gt", "ge", "lt", "le", "in")
TEXT_ONLY_OPERATORS = ("contains", "begins")

CONFIG_FIELDS = (
    Field("CompanyDatabase", "Company database", TEXT, MANDATORY, 50,
          description="Which company database of the ERP this connection reads and writes"),
    Field("ApiKey", "API key", PASSWORD, max_length=200, description="Kept with the connection; not checked"),
    Field("Region", "Region", LIST, list_name="Regions", default="nordic"),
    Field("IncludeSuppliers", "Include suppliers", CHECKBOX, default="[I:1]",
          description="Offer suppliers (and their persons) to the CRM"),
)

bp = Blueprint("erp", __name__)


# --- Settings and the database ------------------------------------------------------------------

class SettingsError(Exception):
    """The settings file is missing or cannot be used; the handshake cannot work without it."""


def load_settings(path: Path) -> dict[str, Any]:
    """Read and check the settings file (read on every call, so a rewritten file takes effect)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path} does not exist: load the platform's demo data first.") from None
    except ValueError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object.")
    missing = [key for key in REQUIRED_SETTINGS if not data.get(key)]
    if missing:
        raise SettingsError(f"{path} lacks: {', '.join(missing)}.")
    data["issuer"] = str(data["issuer"]).rstrip("/")
    return data


def settings() -> dict[str, Any]:
    if "erp_settings" not in g:
        g.erp_settings = load_settings(Path(current_app.config["ERP_SETTINGS"]))
    return g.erp_settings


def db() -> sqlite3.Connection:
    if "erp_db" not in g:
        g.erp_db = store.connect(current_app.config["ERP_DATABASE"], create=False)  # made by create_app
    return g.erp_db


@bp.teardown_app_request
def close_db(_exc: BaseException | None) -> None:
    conn = g.pop("erp_db", None)
    if conn is not None:
        conn.close()


def state() -> dict[str, Any]:
    return current_app.extensions["erp_connector"]


def jwks() -> JwksCache:
    """One key cache per JWKS address (the settings file may name another issuer after a reload)."""
    url = f"{settings()['issuer']}/login/.well-known/jwks"
    caches = state()["jwks"]
    if url not in caches:
        caches[url] = JwksCache(url, min_refetch=current_app.config["ERP_JWKS_MIN_REFETCH"])
    return caches[url]


# --- The protocol: one POST per operation -------------------------------------------------------

class Refused(Exception):
    """Ends an operation with IsOk false; ``answer`` is the envelope."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(answer.get("TechExplanation"))
        self.answer = answer


class Call:
    """One operation call: who made it (the token's tenant) and what it sent."""

    def __init__(self, ctx: str, body: dict[str, Any]) -> None:
        self.ctx = ctx
        self.body = body
        self.connection: dict[str, Any] | None = None

    def text(self, key: str, required: bool = True) -> str:
        value = self.body.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise Refused(refused(f"The request lacks {key}.", f"{key} must be a non-empty string.",
                                  "INVALID_REQUEST"))
        return value

    def strings(self, key: str, limit: int = MAX_KEYS) -> list[str]:
        value = self.body.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise Refused(refused(f"{key} must be a list of strings.", code="INVALID_REQUEST"))
        if len(value) > limit:
            raise Refused(refused(f"{key} holds at most {limit} entries.", code="INVALID_REQUEST"))
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.body.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Refused(refused(f"{key} must be a whole number of 0 or more.", code="INVALID_REQUEST"))
        return value


def connection_id_of(call: Call) -> str:
    raw = call.text("ConnectionId")
    if not GUID.fullmatch(raw):
        raise Refused(refused("The connection ID is not a GUID.", f"ConnectionId {raw[:60]!r} is not a GUID.",
                              "INVALID_CONNECTION_ID"))
    return raw.lower()


def the_connection(call: Call) -> dict[str, Any]:
    """The connection the call names, saved by the caller's tenant, with a company database that exists."""
    connection_id = connection_id_of(call)
    connection = store.get_connection(db(), connection_id)
    if connection is None:
        raise Refused(refused("The ERP connector does not know this connection.",
                              f"Unknown ConnectionId {connection_id}.", "UNKNOWN_CONNECTION_ID"))
    check_tenant(call, connection)
    company_db = connection["config"].get("CompanyDatabase", "")
    if not store.company_database_exists(db(), company_db):
        raise Refused(refused(f"The company database {company_db!r} no longer exists in the ERP.",
                              code="UNKNOWN_COMPANY_DATABASE"))
    call.connection = connection
    return connection


def check_tenant(call: Call, connection: dict[str, Any]) -> None:
    if connection["ctx"] != call.ctx:
        raise Refused(refused("This connection belongs to another customer.",
                              f"Connection {connection['connection_id']} was saved for another tenant than "
                              f"{call.ctx}.", "CONNECTION_OF_ANOTHER_TENANT"))


def company_db_of(connection: dict[str, Any]) -> str:
    return connection["config"]["CompanyDatabase"]


def actor_types_of(connection: dict[str, Any]) -> list[str]:
    include_suppliers = connection["config"].get("IncludeSuppliers", "[I:1]") != "[I:0]"
    return [kind for kind in store.ACTOR_TYPES if include_suppliers or kind != "Supplier"]


def parent_kinds_of(connection: dict[str, Any]) -> list[str]:
    return [kind for kind in actor_types_of(connection) if kind in store.COMPANY_TYPES]


def actor_type_of(call: Call, key: str = "ActorType") -> str:
    actor_type = call.text(key)
    assert call.connection is not None
    if actor_type not in actor_types_of(call.connection):
        raise Refused(refused(f"The ERP offers no actor type {actor_type!r} on this connection.",
                              code="UNKNOWN_ACTOR_TYPE"))
    return actor_type


def field_keys_of(call: Call) -> list[str]:
    return call.strings("FieldKeys", limit=200)


def actors_answer(actor_type: str, rows: list[sqlite3.Row], field_keys: list[str]) -> dict[str, Any]:
    return ok(Actors=[store.as_actor(actor_type, row, field_keys) for row in rows])


# Configuration --------------------------------------------------------------------------------

def config_metadata() -> list[dict[str, Any]]:
    names = ", ".join(row["name"] for row in store.company_databases(db())) or "none yet"
    label = Field("Info", f"Company databases in this ERP: {names}.", LABEL)
    return [field.metadata(rank) for rank, field in enumerate((*CONFIG_FIELDS, label), start=1)]


def checked_config(raw: Any) -> dict[str, str]:
    """The configuration fields kept with a connection (encoded, defaults filled in), or Refused."""
    if not isinstance(raw, dict):
        raise Refused(refused("ConfigFields must be an object of field keys and values.",
                              code="INVALID_REQUEST"))
    known_lists = store.lists(db())
    config: dict[str, str] = {}
    for field in CONFIG_FIELDS:
        value = raw.get(field.key, field.default)
        try:
            decode(field, value, known_lists)
        except FieldValueError as exc:
            raise Refused(refused(str(exc), code="INVALID_CONFIGURATION")) from None
        config[field.key] = value or ""
    company_db = config["CompanyDatabase"]
    if not store.company_database_exists(db(), company_db):
        names = ", ".join(row["name"] for row in store.company_databases(db()))
        raise Refused(refused(
            f"There is no company database called {company_db!r} in this ERP. "
            f"Use one of: {names}.", f"Unknown CompanyDatabase {company_db!r}.", "UNKNOWN_COMPANY_DATABASE"))
    return config


def get_config_data(call: Call) -> dict[str, Any]:
    return ok(Fields=config_metadata())


def test_config_data(call: Call) -> dict[str, Any]:
    config = checked_config(call.body.get("ConfigFields"))
    return ok(user=f"The company database {config['CompanyDatabase']!r} is available.")


def save_connection(call: Call) -> dict[str, Any]:
    connection_id = connection_id_of(call)
    existing = store.get_connection(db(), connection_id)
    if existing is not None:
        check_tenant(call, existing)
    config = checked_config(call.body.get("ConfigFields"))
    with store.transaction(db()):
        store.save_connection(db(), connection_id, call.ctx, config)
    return ok(user=f"Connected to the company database {config['CompanyDatabase']!r}.")


def test_connection(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    company_db = company_db_of(connection)
    counts = dict(db().execute("SELECT kind, COUNT(*) FROM companies WHERE company_db = ? GROUP BY kind",
                               (company_db,)).fetchall())
    summary = ", ".join(f"{counts.get(kind, 0)} {kind.lower()}s" for kind in parent_kinds_of(connection))
    return ok(user=f"Connected to the company database {company_db!r}: {summary}.")


def delete_connection(call: Call) -> dict[str, Any]:
    connection_id = connection_id_of(call)
    existing = store.get_connection(db(), connection_id)
    if existing is None:
        # Deleting is idempotent: saving an unknown connection only to delete it helps nobody.
        return ok("OkWithInfo", "The ERP connector did not know this connection.")
    check_tenant(call, existing)
    with store.transaction(db()):
        store.delete_connection(db(), connection_id)
    return ok(user="The connection is deleted.")


# Actor types and their fields -----------------------------------------------------------------

def get_supported_actor_types(call: Call) -> dict[str, Any]:
    return ok(ActorTypes=actor_types_of(the_connection(call)))


def get_supported_actor_type_fields(call: Call) -> dict[str, Any]:
    the_connection(call)
    actor_type = actor_type_of(call)
    return ok(Fields=[field.metadata(rank) for rank, field in enumerate(store.FIELDS[actor_type], start=1)])


def get_searchable_fields(call: Call) -> dict[str, Any]:
    the_connection(call)
    actor_type = actor_type_of(call)
    fields = store.field_map(actor_type)
    keys = store.SEARCHABLE[actor_type]
    return ok(Fields=[fields[key].metadata(rank) for rank, key in enumerate(keys, start=1)])


# Reading actors -------------------------------------------------------------------------------

def get_actors(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor_type = actor_type_of(call)
    keys = list(dict.fromkeys(call.strings("ErpKeys")))
    if not keys:
        return ok(Actors=[])
    rows = store.select_actors(db(), company_db_of(connection), actor_type,
                               f"a.erp_key IN ({', '.join('?' * len(keys))})", keys,
                               parent_kinds=parent_kinds_of(connection))
    by_key = {row["erp_key"]: row for row in rows}
    return actors_answer(actor_type, [by_key[key] for key in keys if key in by_key], field_keys_of(call))


def contains_any(actor_type: str, text: str) -> tuple[str, list[Any]]:
    """SQL matching ``text`` case-insensitively inside any searchable field."""
    if not text:
        return "", []
    fields = store.field_map(actor_type)
    columns = [fields[key].column for key in store.SEARCHABLE[actor_type]]
    where = " OR ".join(f"instr(fold(a.{column}), ?) > 0" for column in columns)
    return where, [store.fold(text)] * len(columns)


def search_actors(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor_type = actor_type_of(call)
    where, params = contains_any(actor_type, call.text("SearchText", required=False))
    rows = store.select_actors(db(), company_db_of(connection), actor_type, where, params,
                               order=f"fold(a.{store.FIELDS[actor_type][0].column}), a.erp_key",
                               limit=SEARCH_LIMIT, parent_kinds=parent_kinds_of(connection))
    return actors_answer(actor_type, rows, field_keys_of(call))


def search_actor_by_parent(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor_type = actor_type_of(call)
    parent_type = actor_type_of(call, "ParentActorType")
    parent_key = call.text("ParentErpKey")
    if actor_type != store.PERSON or parent_type not in store.COMPANY_TYPES:
        raise Refused(refused(f"A {actor_type} has no parent of type {parent_type}: only persons have a "
                              "parent, a customer, supplier or partner.", code="INVALID_REQUEST"))
    where, params = contains_any(actor_type, call.text("SearchText", required=False))
    where = f"co.kind = ? AND co.erp_key = ?{f' AND ({where})' if where else ''}"
    rows = store.select_actors(db(), company_db_of(connection), actor_type, where,
                               [parent_type, parent_key, *params],
                               order="fold(a.lastname), fold(a.firstname), a.erp_key", limit=SEARCH_LIMIT,
                               parent_kinds=parent_kinds_of(connection))
    return actors_answer(actor_type, rows, field_keys_of(call))


def restriction_sql(actor_type: str, restriction: Any, known_lists: dict[str, dict[str, str]]
                    ) -> tuple[str, list[Any]]:
    if not isinstance(restriction, dict):
        raise FieldValueError("Each restriction is an object with FieldKey, Operator and Values.")
    field = store.field_map(actor_type).get(restriction.get("FieldKey"))  # type: ignore[arg-type]
    operator, values = restriction.get("Operator"), restriction.get("Values")
    if field is None:
        raise FieldValueError(f"{actor_type} has no field {restriction.get('FieldKey')!r}.")
    if operator not in OPERATORS:
        raise FieldValueError(f"Unknown operator {operator!r}; use one of {', '.join(OPERATORS)}.")
    if not isinstance(values, list) or not values or (operator != "in" and len(values) != 1):
        wanted = "one or more values" if operator == "in" else "one value"
        raise FieldValueError(f"{operator} takes {wanted}.")
    textual = field.type in (TEXT, PASSWORD, LIST)
    if operator in TEXT_ONLY_OPERATORS and not textual:
        raise FieldValueError(f"{operator} works on text fields; {field.key} is not one.")
    column = f"a.{field.column}"
    if textual:
        if not all(isinstance(value, str) for value in values):
            raise FieldValueError(f"{field.key} takes text values.")
        column, operands = f"fold({column})", [store.fold(value) for value in values]
    else:
        lenient = Field(field.key, field.name, field.type, list_name=field.list_name)  # empty means no value
        operands = [decode(lenient, value, known_lists) for value in values]
    if operator == "contains":
        return f"instr({column}, ?) > 0", operands
    if operator == "begins":
        return f"substr({column}, 1, length(?)) = ?", operands * 2
    if operator == "in":
        return f"{column} IN ({', '.join('?' * len(operands))})", operands
    comparison = {"equals": "IS", "notEquals": "IS NOT", "gt": ">", "ge": ">=", "lt": "<",
                  "le": "<="}[operator]
    return f"{column} {comparison} ?", operands


def search_actors_advanced(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor_type = actor_type_of(call)
    restrictions = call.body.get("Restrictions") or []
    if not isinstance(restrictions, list):
        raise Refused(refused("Restrictions must be a list.", code="INVALID_REQUEST"))
    known_lists = store.lists(db())
    clauses, params = [], []
    try:
        for restriction in restrictions:
            clause, operands = restriction_sql(actor_type, restriction, known_lists)
            clauses.append(clause)
            params += operands
    except FieldValueError as exc:
        raise Refused(refused(str(exc), code="INVALID_RESTRICTION")) from None
    rows = store.select_actors(db(), company_db_of(connection), actor_type, " AND ".join(clauses), params,
                               order="a.erp_key", limit=SEARCH_LIMIT,
                               parent_kinds=parent_kinds_of(connection))
    return actors_answer(actor_type, rows, field_keys_of(call))


def get_actors_by_timestamp(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor_type = actor_type_of(call)
    timestamp = call.body.get("Timestamp")
    where, params = "", []
    if timestamp not in (None, ""):
        try:
            params = [parse_timestamp(timestamp)]
        except (TypeError, ValueError):
            raise Refused(refused("Timestamp must be an ISO 8601 time or null.",
                                  code="INVALID_REQUEST")) from None
        where = "a.last_modified >= ?"  # on or after: the platform tolerates seeing an actor twice
    take = min(call.integer("Take", MAX_TAKE), MAX_TAKE)
    rows = store.select_actors(db(), company_db_of(connection), actor_type, where, params, limit=take,
                               offset=call.integer("Skip", 0), parent_kinds=parent_kinds_of(connection))
    return actors_answer(actor_type, rows, field_keys_of(call))


# Writing actors -------------------------------------------------------------------------------

def parent_id(connection: dict[str, Any], parent_type: Any, parent_key: Any) -> int:
    if parent_type not in parent_kinds_of(connection) or not isinstance(parent_key, str):
        raise FieldValueError("A person needs ParentActorType (a customer, supplier or partner type) and "
                              "ParentErpKey.")
    row = store.find_company(db(), company_db_of(connection), parent_key)
    if row is None or row["kind"] != parent_type:
        raise FieldValueError(f"There is no {parent_type} {parent_key!r} to be the person's parent.")
    return row["id"]


def read_back(connection: dict[str, Any], actor_type: str, key: str) -> dict[str, Any]:
    rows = store.select_actors(db(), company_db_of(connection), actor_type, "a.erp_key = ?", [key],
                               parent_kinds=store.COMPANY_TYPES)
    return store.as_actor(actor_type, rows[0])


def create_actor(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actor = call.body.get("Actor")
    if not isinstance(actor, dict):
        raise Refused(refused("The request lacks the Actor.", code="INVALID_REQUEST"))
    actor_type = actor_type_of(_with_connection(call, actor))
    try:
        stored = store.check_values(actor_type, actor.get("FieldValues") or {}, store.lists(db()),
                                    creating=True)
        with store.transaction(db()):
            company = None
            if actor_type == store.PERSON:
                company = parent_id(connection, actor.get("ParentActorType"), actor.get("ParentErpKey"))
            key = store.insert_actor(db(), company_db_of(connection), actor_type, stored, company)
    except FieldValueError as exc:
        raise Refused(refused(f"The {actor_type.lower()} was not created: {exc}",
                              code="INVALID_VALUE")) from None
    return ok(Actor=read_back(connection, actor_type, key))


def _with_connection(call: Call, body: dict[str, Any]) -> Call:
    inner = Call(call.ctx, body)
    inner.connection = call.connection
    return inner


def save_actors(call: Call) -> dict[str, Any]:
    connection = the_connection(call)
    actors = call.body.get("Actors")
    if not isinstance(actors, list) or len(actors) > MAX_KEYS:
        raise Refused(refused(f"Actors must be a list of at most {MAX_KEYS} actors.", code="INVALID_REQUEST"))
    known_lists = store.lists(db())
    saved: list[dict[str, Any]] = []
    problems: list[str] = []
    for position, actor in enumerate(actors, start=1):
        label = f"actor {position}"
        try:
            if not isinstance(actor, dict):
                raise FieldValueError("not an object.")
            actor_type = actor.get("ActorType")
            key = actor.get("ErpKey")
            label = f"{actor_type} {key}"
            if actor_type not in actor_types_of(connection) or not isinstance(key, str):
                raise FieldValueError("unknown actor type or no ErpKey.")
            rows = store.select_actors(db(), company_db_of(connection), actor_type, "a.erp_key = ?", [key],
                                       parent_kinds=parent_kinds_of(connection))
            if not rows:
                raise FieldValueError("the ERP has no such actor.")
            stored = store.check_values(actor_type, actor.get("FieldValues") or {}, known_lists,
                                        creating=False)
            new_parent = actor.get("ParentErpKey")
            if actor_type == store.PERSON and new_parent not in (None, "", rows[0]["parent_key"]):
                stored["company_id"] = parent_id(connection, actor.get("ParentActorType"), new_parent)
            # Every actor in its own transaction: a refused actor leaves no trace, a good one is kept.
            with store.transaction(db()):
                store.update_actor(db(), rows[0]["id"], actor_type, stored, utc_now())
            saved.append(read_back(connection, actor_type, key))
        except FieldValueError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        return refused(f"{len(problems)} of {len(actors)} actors were not saved. " + " ".join(problems),
                       code="INVALID_VALUE", Actors=saved)
    return ok(Actors=saved)


# Lists ----------------------------------------------------------------------------------------

def list_call(call: Call) -> tuple[str, dict[str, str]]:
    # Lists are the same for every connection, and the setup asks for Regions before there is one.
    if call.body.get("ConnectionId"):
        the_connection(call)
    name = call.text("ListName")
    items = store.lists(db()).get(name)
    if items is None:
        raise Refused(refused(f"The ERP has no list {name!r}.", code="UNKNOWN_LIST"))
    return name, items


def get_list(call: Call) -> dict[str, Any]:
    name, items = list_call(call)
    return ok(ListName=name, DisplayName=store.list_display_name(db(), name),
              Items=[{"Key": key, "Value": value} for key, value in items.items()])


def get_list_items(call: Call) -> dict[str, Any]:
    _, items = list_call(call)
    keys = call.strings("Keys")
    return ok(Items=[{"Key": key, "Value": items[key]} for key in dict.fromkeys(keys) if key in items])


OPERATIONS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "GetConfigData": get_config_data,
    "TestConfigData": test_config_data,
    "SaveConnection": save_connection,
    "TestConnection": test_connection,
    "DeleteConnection": delete_connection,
    "GetSupportedActorTypes": get_supported_actor_types,
    "GetSupportedActorTypeFields": get_supported_actor_type_fields,
    "GetSearchableFields": get_searchable_fields,
    "GetActors": get_actors,
    "SearchActors": search_actors,
    "SearchActorByParent": search_actor_by_parent,
    "SearchActorsAdvanced": search_actors_advanced,
    "CreateActor": create_actor,
    "SaveActors": save_actors,
    "GetList": get_list,
    "GetListItems": get_list_items,
    "GetActorsByTimestamp": get_actors_by_timestamp,
}


def envelope(answer: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(answer)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def record_call(operation: str, started: float, status: int, answer: dict[str, Any], ctx: str = "",
                connection_id: Any = "") -> None:
    """Keep a line about the call for the page and /log: never tokens or configuration values."""
    state()["calls"].appendleft({
        "at": utc_now(), "operation": operation, "status": status, "ctx": ctx,
        "connection_id": connection_id if isinstance(connection_id, str) else "",
        "is_ok": answer.get("IsOk"), "error_code": answer.get("ErrorCode", ""),
        "explanation": str(answer.get("TechExplanation") or answer.get("UserExplanation") or "")[:300],
        "actors": len(answer["Actors"]) if isinstance(answer.get("Actors"), list) else None,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    })


def refusal_of(exc: HandshakeError | SettingsError, user: str) -> tuple[dict[str, Any], int]:
    """401 for a token that does not verify; 503 when the connector cannot check it now (no settings,
    the platform's keys unreachable), which the platform retries."""
    if isinstance(exc, SettingsError):
        return refused("The ERP connector is not configured.", str(exc), "NOT_CONFIGURED"), 503
    if exc.status == 503:
        return refused("The ERP connector cannot reach the platform's keys.", str(exc),
                       "KEYS_UNAVAILABLE"), 503
    return refused(user, str(exc), "INVALID_TOKEN"), 401


@bp.post("/Authenticate")
def authenticate() -> Response:
    started = time.perf_counter()
    body = request.get_json(silent=True)
    token = body.get("Token") if isinstance(body, dict) else None
    try:
        conf = settings()
        claims = verify_token(token, jwks(), conf["client_id"])
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise HandshakeError("The token has no nonce.")
    except (HandshakeError, SettingsError) as exc:
        answer, status = refusal_of(exc, "The platform's token was not accepted.")
        record_call("Authenticate", started, status, answer)
        return envelope(answer, status)
    answer = ok(Token=sign_reply(nonce, conf["private_key_pem"]))
    record_call("Authenticate", started, 200, answer, tenant_of(claims))
    return envelope(answer)


@bp.post("/<operation>")
def operation_call(operation: str) -> Response:
    started = time.perf_counter()
    handler = OPERATIONS.get(operation)
    if handler is None:
        return envelope(refused(f"Unknown operation {operation!r}.", code="UNKNOWN_OPERATION"), 404)
    body = request.get_json(silent=True)
    connection_id = body.get("ConnectionId") if isinstance(body, dict) else ""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise HandshakeError("No Authorization: Bearer <token> header.")
        claims = verify_token(token.strip(), jwks(), settings()["client_id"])
    except (HandshakeError, SettingsError) as exc:
        answer, status = refusal_of(exc, "The call was not authenticated.")
        record_call(operation, started, status, answer, connection_id=connection_id)
        return envelope(answer, status)
    ctx = tenant_of(claims)
    if not isinstance(body, dict):
        answer = refused("The request body must be a JSON object.", code="INVALID_REQUEST")
        record_call(operation, started, 400, answer, ctx)
        return envelope(answer, 400)
    try:
        answer = handler(Call(ctx, body))
    except Refused as refusal:
        answer = refusal.answer
    record_call(operation, started, 200, answer, ctx, connection_id)
    return envelope(answer)


@bp.get("/log")
def call_log() -> Response:
    return jsonify({"calls": list(state()["calls"])})


# --- The page: look at and change the ERP's data ------------------------------------------------

def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_form_origin() -> None:
    """A form post needs our CSRF token and, when the browser says where it comes from, our origin.

    "Origin: null" (a sandboxed frame, a data: page, a redirect from another site) is refused like any other
    origin: the Referrer-Policy below lets the browser send our real origin with our own posts.
    """
    origin = request.headers.get("Origin")
    if origin and origin != f"{urlsplit(request.host_url).scheme}://{request.host}":
        abort(400, "The form was posted from another site.")
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400, "The form has expired: open the page again and retry.")


@bp.after_app_request
def security_headers(response: Response) -> Response:
    response.headers["X-Frame-Options"] = "DENY"
    # Not "no-referrer": with it Chromium posts "Origin: null" from our own forms. "same-origin" still keeps
    # the Referer (and the record keys in our URLs) away from other sites.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


def chosen_database() -> str:
    names = [row["name"] for row in store.company_databases(db())]
    wanted = request.values.get("db", "")
    return wanted if wanted in names else (names[0] if names else "")


def shown(field: Field, value: Any) -> str:
    if value is None:
        return ""
    if field.type == DATE:
        return str(value)[:10]
    if field.type == DOUBLE:
        return encode_float(float(value))[3:-1]
    return str(value)


@bp.get("/")
def home() -> str:
    company_db = chosen_database()
    search = request.args.get("q", "").strip()
    where, params = contains_any("Customer", search)
    sql = ("SELECT * FROM companies a WHERE a.company_db = ?" + (f" AND ({where})" if where else "")
           + " ORDER BY a.last_modified DESC, a.erp_key DESC LIMIT ?")
    companies = db().execute(sql, [company_db, *params, COMPANIES_SHOWN]).fetchall()
    persons: dict[int, list[sqlite3.Row]] = {}
    if companies:
        ids = [row["id"] for row in companies]
        for person in db().execute(f"SELECT * FROM persons WHERE company_id IN ({', '.join('?' * len(ids))}) "
                                   "ORDER BY lastname, firstname, erp_key", ids):
            persons.setdefault(person["company_id"], []).append(person)
    connections = [store.get_connection(db(), row[0]) for row in
                   db().execute("SELECT connection_id FROM connections ORDER BY saved_at DESC")]
    try:
        settings()
        settings_problem = ""
    except SettingsError as exc:
        settings_problem = str(exc)
    return render_template("home.html", databases=store.company_databases(db()), company_db=company_db,
                           companies=companies, persons=persons, search=search, connections=connections,
                           calls=list(state()["calls"])[:15], countries=store.lists(db())["Countries"],
                           settings_problem=settings_problem)


def form_value(field: Field, form: Any) -> str:
    """The wire encoding of a form input, so the page and SaveActors check values the same way."""
    if field.type == CHECKBOX:
        return encode_int(field.key in form)
    text = form.get(field.key, "").strip()
    if not text:
        return ""
    try:
        if field.type == DOUBLE:
            return encode_float(float(text.replace(",", ".").replace(" ", "")))
        if field.type == INTEGER:
            return encode_int(int(text))
        if field.type == DATE:
            return encode_date(date.fromisoformat(text))
    except ValueError:
        kind = "date" if field.type == DATE else "number"
        raise FieldValueError(f"{field.name}: {text!r} is not a {kind}.") from None
    return text


@bp.route("/companies/<company_db>/<erp_key>", methods=["GET", "POST"])
def edit_company(company_db: str, erp_key: str) -> Any:
    company = store.find_company(db(), company_db, erp_key)
    if company is None:
        abort(404)
    kind = company["kind"]
    fields = [field for field in store.FIELDS[kind] if field.access != READ_ONLY]
    values = {field.key: shown(field, company[field.column]) for field in fields}
    error = ""
    if request.method == "POST":
        check_form_origin()
        try:
            sent = {field.key: form_value(field, request.form) for field in fields}
            stored = store.check_values(kind, sent, store.lists(db()), creating=False)
            changed = {column: value for column, value in stored.items() if company[column] != value}
            if changed:
                with store.transaction(db()):
                    store.update_actor(db(), company["id"], kind, changed, utc_now())
                flash(f"Saved {company['name']}: the CRM gets the change at its next sync.")
            else:
                flash(f"Nothing changed in {company['name']}.")
            return redirect(url_for("erp.home", db=company_db))
        except FieldValueError as exc:
            error = str(exc)
            values = {field.key: request.form.get(field.key, "") for field in fields}
            values.update({field.key: "1" if field.key in request.form else "" for field in fields
                           if field.type == CHECKBOX})
    return render_template("edit.html", company=company, kind=kind, fields=fields, values=values, error=error,
                           company_db=company_db, lists=store.lists(db()), types={
                               "text": TEXT, "list": LIST, "double": DOUBLE, "integer": INTEGER,
                               "checkbox": CHECKBOX, "date": DATE}), (400 if error else 200)


# --- The app ------------------------------------------------------------------------------------

def create_app(settings_path: str | os.PathLike[str] | None = None,
               db_path: str | os.PathLike[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("ERP_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_NAME="erp_session",  # cookies ignore ports: keep clear of the platform's
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        ERP_SETTINGS=str(settings_path or os.environ.get("ERP_SETTINGS") or DEFAULT_SETTINGS),
        ERP_DATABASE=str(db_path or os.environ.get("ERP_DATABASE") or DEFAULT_DATABASE),
        ERP_JWKS_MIN_REFETCH=10.0,
    )
    store.ensure_seeded(app.config["ERP_DATABASE"])
    app.extensions["erp_connector"] = {"jwks": {}, "calls": deque(maxlen=CALLS_KEPT)}
    app.register_blueprint(bp)
    app.jinja_env.globals.update(shown=shown, encode=encode, datetime=datetime, UTC=UTC)
    return app


def main() -> None:
    port = int(os.environ.get("ERP_PORT") or DEFAULT_PORT)
    create_app().run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()

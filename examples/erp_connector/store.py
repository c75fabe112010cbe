"""The connector's own ERP: company databases of customers, suppliers, partners and their persons,
lists and the connections the platform saved, in one SQLite file. No Flask."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

try:
    from .protocol import (
        CHECKBOX,
        DATE,
        DOUBLE,
        INTEGER,
        LIST,
        MANDATORY,
        READ_ONLY,
        TEXT,
        Field,
        FieldValueError,
        decode,
        encode,
        format_timestamp,
        utc_now,
    )
except ImportError:  # run as a script from this folder
    from protocol import (  # type: ignore
        CHECKBOX,
        DATE,
        DOUBLE,
        INTEGER,
        LIST,
        MANDATORY,
        READ_ONLY,
        TEXT,
        Field,
        FieldValueError,
        decode,
        encode,
        format_timestamp,
        utc_now,
    )

COMPANY_TYPES = ("Customer", "Supplier", "Partner")
PERSON = "Person"
ACTOR_TYPES = (*COMPANY_TYPES, PERSON)
KEY_PREFIX = {"Customer": "CU", "Supplier": "SU", "Partner": "PA", PERSON: "PE"}
NUMBER_BASE = {"Customer": 10000, "Supplier": 50000, "Partner": 70000}  # seeded Number1 values


def company_fields(actor_type: str) -> tuple[Field, ...]:
    noun = actor_type.lower()
    return (
        Field("Name", "Name", TEXT, MANDATORY, 100, column="name"),
        Field("OrgNr", "Organisation number", TEXT, max_length=30, column="org_nr"),
        Field("Number1", f"{actor_type} number", TEXT, max_length=40, column="number1"),
        Field("Department", "Department", TEXT, max_length=60, column="department"),
        Field("Phone", "Phone", TEXT, max_length=40, column="phone"),
        Field("Email", "E-mail", TEXT, max_length=200, column="email"),
        Field("Country", "Country", LIST, list_name="Countries", column="country"),
        Field("CreditLimit", "Credit limit", DOUBLE, column="credit_limit"),
        Field("PaymentTerms", "Payment terms (days)", INTEGER, column="payment_terms",
              description="Days until an invoice is due"),
        Field("IsActive", "Active", CHECKBOX, default="[I:1]", column="is_active"),
        Field("CustomerSince", f"{actor_type} since", DATE, column="customer_since",
              description=f"When this {noun} was registered"),
        Field("ErpId", "ERP ID", TEXT, READ_ONLY, column="erp_key", description="The key in the ERP"),
    )


PERSON_FIELDS = (
    Field("Firstname", "First name", TEXT, max_length=50, column="firstname"),
    Field("Lastname", "Last name", TEXT, MANDATORY, 50, column="lastname"),
    Field("Title", "Title", TEXT, max_length=60, column="title"),
    Field("Email", "E-mail", TEXT, max_length=200, column="email"),
    Field("Phone", "Phone", TEXT, max_length=40, column="phone"),
    Field("ErpId", "ERP ID", TEXT, READ_ONLY, column="erp_key", description="The key in the ERP"),
)
FIELDS = {**{kind: company_fields(kind) for kind in COMPANY_TYPES}, PERSON: PERSON_FIELDS}
SEARCHABLE = {**{kind: ("Name", "OrgNr", "Number1", "Email", "Phone") for kind in COMPANY_TYPES},
              PERSON: ("Firstname", "Lastname", "Email", "Phone")}

LISTS = {
    "Countries": ("Countries", [
        ("NO", "Norway"), ("SE", "Sweden"), ("DK", "Denmark"), ("FI", "Finland"), ("IS", "Iceland"),
        ("DE", "Germany"), ("GB", "United Kingdom"), ("NL", "Netherlands"), ("FR", "France"),
        ("ES", "Spain"), ("PL", "Poland"), ("US", "United States")]),
    "PaymentTerms": ("Payment terms", [
        ("10", "10 days net"), ("14", "14 days net"), ("30", "30 days net"), ("45", "45 days net"),
        ("60", "60 days net")]),
    "Regions": ("Regions", [("nordic", "Nordic countries"), ("europe", "Europe"), ("world", "Worldwide")]),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS company_databases (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS companies (
    id INTEGER PRIMARY KEY,
    company_db TEXT NOT NULL REFERENCES company_databases(name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('Customer', 'Supplier', 'Partner')),
    erp_key TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    name TEXT NOT NULL,
    org_nr TEXT, number1 TEXT, department TEXT, phone TEXT, email TEXT, country TEXT,
    credit_limit REAL, payment_terms INTEGER, is_active INTEGER, customer_since TEXT,
    UNIQUE (company_db, erp_key)
);
CREATE INDEX IF NOT EXISTS companies_changed ON companies (company_db, kind, last_modified, erp_key);
CREATE TABLE IF NOT EXISTS persons (
    id INTEGER PRIMARY KEY,
    company_db TEXT NOT NULL REFERENCES company_databases(name) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    erp_key TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    firstname TEXT, lastname TEXT NOT NULL, title TEXT, email TEXT, phone TEXT,
    UNIQUE (company_db, erp_key)
);
CREATE INDEX IF NOT EXISTS persons_changed ON persons (company_db, last_modified, erp_key);
CREATE INDEX IF NOT EXISTS persons_company ON persons (company_id);
CREATE TABLE IF NOT EXISTS lists (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS list_items (
    list_name TEXT NOT NULL REFERENCES lists(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (list_name, key)
);
CREATE TABLE IF NOT EXISTS connections (
    connection_id TEXT PRIMARY KEY,
    ctx TEXT NOT NULL,
    config TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""


# --- Opening the file ---------------------------------------------------------------------------

def fold(value: Any) -> str:
    """Case-insensitive matching that knows Æ/æ and Ø/ø (SQLite's lower() knows ASCII only)."""
    return "" if value is None else str(value).casefold()


def connect(db_path: str | Path, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (write with ``transaction``); ``create`` makes the file and
    its tables when missing."""
    if create:
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, timeout=10, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.create_function("fold", 1, fold, deterministic=True)
    if create:
        conn.execute("PRAGMA journal_mode = WAL")  # the page reads while a sync writes; kept in the file
        conn.executescript(SCHEMA)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")  # take the write lock first: key numbers are read, then used
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- Seeding ------------------------------------------------------------------------------------

FIRST_NAMES = ("Ada", "Bjørn", "Camilla", "Dag", "Eva", "Frode", "Grete", "Henrik", "Ingrid", "Jonas",
               "Kari", "Lars", "Maja", "Nils", "Oda", "Per", "Ragnhild", "Sven", "Tuva", "Ulrik", "Vera",
               "Åse", "Emil", "Sofie", "Mikko", "Liisa", "Anders", "Freja", "Lukas", "Hannah")
LAST_NAMES = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersson", "Nielsen", "Virtanen", "Berg",
              "Haugen", "Lindqvist", "Jensen", "Korhonen", "Müller", "Schmidt", "Smith", "Brown", "Dahl",
              "Strand", "Sæther", "Nygård")
TITLES = ("CEO", "CFO", "Purchasing manager", "Accountant", "Sales manager", "Office manager", "CTO", "")
NAME_STARTS = ("Nord", "Fjell", "Havbris", "Polar", "Skog", "Lys", "Berg", "Vik", "Stjerne", "Elv", "Kyst",
               "Sol", "Fjord", "Storm", "Nordlys", "Isbre")
NAME_ENDS = ("Consulting", "Logistics", "Data", "Bygg", "Marine", "Energi", "Design", "Foods", "Systems",
             "Trading", "Media", "Verksted")
SUPPLIER_ENDS = ("Supply", "Parts", "Wholesale", "Components", "Materials", "Packaging")
COUNTRY_MIX = ("NO", "NO", "NO", "NO", "SE", "SE", "DK", "FI", "DE", "GB", "NL", "IS")
LEGAL_FORMS = {"NO": "AS", "SE": "AB", "DK": "ApS", "FI": "Oy", "DE": "GmbH", "GB": "Ltd", "NL": "B.V.",
               "IS": "ehf."}
DIALLING = {"NO": "+47", "SE": "+46", "DK": "+45", "FI": "+358", "DE": "+49", "GB": "+44", "NL": "+31",
            "IS": "+354"}
SEED_EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DEMO_DATABASES = (
    # name, display name, customers, suppliers, partners
    ("demo", "Acme demo company", 40, 5, 2),
    ("test", "Acme test company", 4, 1, 0),
)


ASCII_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def _slug(text: str) -> str:
    return "".join(ch for ch in fold(text).translate(ASCII_LETTERS) if ch.isascii() and ch.isalnum()) or "x"


def _company_row(rng: random.Random, company_db: str, kind: str, index: int, stamp: str) -> tuple:
    ends = SUPPLIER_ENDS if kind == "Supplier" else NAME_ENDS
    start = NAME_STARTS[index % len(NAME_STARTS)]
    end = ends[(index // len(NAME_STARTS)) % len(ends)]
    country = rng.choice(COUNTRY_MIX)
    name = f"{start} {end} {LEGAL_FORMS[country]}"
    rounds = index // (len(NAME_STARTS) * len(ends))
    if rounds:
        name = f"{start} {end} {rounds + 1} {LEGAL_FORMS[country]}"
    number = index + 1
    key = f"{KEY_PREFIX[kind]}{number:06d}"
    since = date(2012, 1, 1) + timedelta(days=rng.randrange(5000))
    return (company_db, kind, key, stamp, name, f"{rng.randrange(800_000_000, 999_999_999)}",
            str(NUMBER_BASE[kind] + number),
            rng.choice(("", "", "Sales", "Purchasing", "Head office")),
            f"{DIALLING[country]} {rng.randrange(20_000_000, 99_999_999)}",
            f"post@{_slug(start + end)}{number}.example", country, float(rng.randrange(0, 40) * 5000),
            rng.choice((10, 14, 30, 30, 45, 60)), 0 if rng.random() < 0.1 else 1,
            datetime(since.year, since.month, since.day).isoformat(timespec="microseconds"))


def seed(db_path: str | Path, customers: int = 40, persons_per_customer: int | None = None, *,
         company_database: str = "demo", display_name: str = "", suppliers: int = 0,
         partners: int = 0) -> None:
    """(Re)create one company database with deterministic data, in one transaction.

    Its old customers, suppliers, partners and persons are replaced; connections are kept. Each
    company gets ``persons_per_customer`` persons, or 1–3 when None. Seeded rows share their
    LastModified in groups of five, a minute apart from 2026-01-05 08:00 UTC.
    """
    rng = random.Random(f"erp-connector/{company_database}")  # a str seed is stable across runs
    conn = connect(db_path)
    try:
        with transaction(conn):
            seed_lists(conn)
            conn.execute("INSERT INTO company_databases (name, display_name) VALUES (?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name",
                         (company_database, display_name or company_database))
            conn.execute("DELETE FROM persons WHERE company_db = ?", (company_database,))
            conn.execute("DELETE FROM companies WHERE company_db = ?", (company_database,))
            rows, position = [], 0
            for kind, count in (("Customer", customers), ("Supplier", suppliers), ("Partner", partners)):
                for index in range(count):
                    stamp = format_timestamp(SEED_EPOCH + timedelta(minutes=position // 5))
                    rows.append(_company_row(rng, company_database, kind, index, stamp))
                    position += 1
            conn.executemany(
                "INSERT INTO companies (company_db, kind, erp_key, last_modified, name, org_nr, number1, "
                "department, phone, email, country, credit_limit, payment_terms, is_active, customer_since) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            ids = dict(conn.execute("SELECT erp_key, id FROM companies WHERE company_db = ?",
                                    (company_database,)).fetchall())
            people, number = [], 0
            for row in rows:
                count = persons_per_customer if persons_per_customer is not None else rng.randint(1, 3)
                domain = row[9].partition("@")[2]
                for _ in range(count):
                    number += 1
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    people.append((company_database, ids[row[2]], f"PE{number:06d}", row[3], first, last,
                                   rng.choice(TITLES) or None, f"{_slug(first)}.{_slug(last)}@{domain}",
                                   f"{DIALLING[row[10]]} {rng.randrange(400_00000, 999_99999)}"))
            conn.executemany(
                "INSERT INTO persons (company_db, company_id, erp_key, last_modified, firstname, lastname, "
                "title, email, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", people)
    finally:
        conn.close()


def seed_lists(conn: sqlite3.Connection) -> None:
    for name, (display_name, items) in LISTS.items():
        conn.execute("INSERT OR IGNORE INTO lists (name, display_name) VALUES (?, ?)", (name, display_name))
        conn.executemany("INSERT OR IGNORE INTO list_items (list_name, key, value, rank) VALUES (?, ?, ?, ?)",
                         [(name, key, value, rank) for rank, (key, value) in enumerate(items)])


def ensure_seeded(db_path: str | Path) -> None:
    """On first start, the demo and test company databases."""
    conn = connect(db_path)
    try:
        empty = conn.execute("SELECT COUNT(*) FROM company_databases").fetchone()[0] == 0
    finally:
        conn.close()
    if empty:
        for name, display_name, customers, suppliers, partners in DEMO_DATABASES:
            seed(db_path, customers, company_database=name, display_name=display_name, suppliers=suppliers,
                 partners=partners)


# --- Company databases, lists, connections ------------------------------------------------------

def company_databases(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT d.name, d.display_name, "
                        "(SELECT COUNT(*) FROM companies c WHERE c.company_db = d.name) AS companies "
                        "FROM company_databases d ORDER BY d.name").fetchall()


def company_database_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM company_databases WHERE name = ?", (name,)).fetchone() is not None


def lists(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """Every list's items, key → value, in rank order."""
    result: dict[str, dict[str, str]] = {name: {} for (name,) in conn.execute("SELECT name FROM lists")}
    for row in conn.execute("SELECT list_name, key, value FROM list_items ORDER BY list_name, rank, key"):
        result[row["list_name"]][row["key"]] = row["value"]
    return result


def list_display_name(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT display_name FROM lists WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def get_connection(conn: sqlite3.Connection, connection_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM connections WHERE connection_id = ?", (connection_id,)).fetchone()
    if row is None:
        return None
    return {"connection_id": row["connection_id"], "ctx": row["ctx"], "config": json.loads(row["config"]),
            "saved_at": row["saved_at"]}


def save_connection(conn: sqlite3.Connection, connection_id: str, ctx: str, config: dict[str, str]) -> None:
    conn.execute("INSERT INTO connections (connection_id, ctx, config, saved_at) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (connection_id) DO UPDATE SET config = excluded.config, "
                 "saved_at = excluded.saved_at",
                 (connection_id, ctx, json.dumps(config, sort_keys=True), utc_now()))


def delete_connection(conn: sqlite3.Connection, connection_id: str) -> bool:
    return conn.execute("DELETE FROM connections WHERE connection_id = ?", (connection_id,)).rowcount > 0


# --- Reading actors -----------------------------------------------------------------------------

def field_map(actor_type: str) -> dict[str, Field]:
    return {field.key: field for field in FIELDS[actor_type]}


def _select(actor_type: str) -> tuple[str, str]:
    """(SELECT … FROM … WHERE company_db = ?, the alias of the actor's own table)."""
    if actor_type == PERSON:
        columns = ", ".join(f"a.{field.column} AS {field.column}" for field in PERSON_FIELDS
                            if field.column != "erp_key")
        return ("SELECT a.id, a.erp_key, a.last_modified, co.kind AS parent_type, co.erp_key AS parent_key, "
                f"{columns} FROM persons a JOIN companies co ON co.id = a.company_id "
                "WHERE a.company_db = ? AND co.kind IN ({kinds})"), "a"
    columns = ", ".join(f"a.{field.column}" for field in FIELDS[actor_type] if field.column != "erp_key")
    return (f"SELECT a.id, a.erp_key, a.last_modified, '' AS parent_type, '' AS parent_key, {columns} "
            "FROM companies a WHERE a.company_db = ? AND a.kind = ?"), "a"


def select_actors(conn: sqlite3.Connection, company_db: str, actor_type: str, where: str = "",
                  params: Sequence[Any] = (), order: str = "a.last_modified, a.erp_key", limit: int = -1,
                  offset: int = 0, parent_kinds: Sequence[str] = COMPANY_TYPES) -> list[sqlite3.Row]:
    sql, _ = _select(actor_type)
    head: list[Any] = [company_db]
    if actor_type == PERSON:
        sql = sql.format(kinds=", ".join("?" * len(parent_kinds)) or "NULL")
        head += list(parent_kinds)
    else:
        head.append(actor_type)
    if where:
        sql += f" AND ({where})"
    sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
    return conn.execute(sql, [*head, *params, limit, offset]).fetchall()


def as_actor(actor_type: str, row: sqlite3.Row, field_keys: Sequence[str] = ()) -> dict[str, Any]:
    wanted = set(field_keys)
    values = {field.key: encode(field, row[field.column]) for field in FIELDS[actor_type]
              if not wanted or field.key in wanted}
    return {"ActorType": actor_type, "ErpKey": row["erp_key"], "LastModified": row["last_modified"],
            "ParentActorType": row["parent_type"] or "", "ParentErpKey": row["parent_key"] or "",
            "FieldValues": values}


def find_company(conn: sqlite3.Connection, company_db: str, erp_key: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM companies WHERE company_db = ? AND erp_key = ?",
                        (company_db, erp_key)).fetchone()


# --- Writing actors -----------------------------------------------------------------------------

def check_values(actor_type: str, values: Any, known_lists: dict[str, dict[str, str]], creating: bool
                 ) -> dict[str, Any]:
    """Decode the FieldValues of one actor into {column: stored value}; FieldValueError for the first
    value that does not fit (unknown field, ReadOnly field, wrong type, missing mandatory field)."""
    if not isinstance(values, dict):
        raise FieldValueError("FieldValues must be an object of field keys and encoded values.")
    fields = field_map(actor_type)
    stored: dict[str, Any] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            raise FieldValueError(f"{actor_type} has no field {key!r}.")
        if field.access == READ_ONLY:
            raise FieldValueError(f"{key} is read-only and cannot be written.")
        stored[field.column] = decode(field, raw, known_lists)
    if creating:
        for field in fields.values():
            if field.access == MANDATORY and stored.get(field.column) is None:
                raise FieldValueError(f"{field.key} is mandatory.")
            if field.column not in stored and field.default and field.access != READ_ONLY:
                stored[field.column] = decode(field, field.default, known_lists)
    return stored


def next_key(conn: sqlite3.Connection, company_db: str, actor_type: str) -> str:
    table = "persons" if actor_type == PERSON else "companies"
    prefix = KEY_PREFIX[actor_type]
    row = conn.execute(f"SELECT MAX(CAST(substr(erp_key, 3) AS INTEGER)) FROM {table} "
                       "WHERE company_db = ? AND erp_key LIKE ?", (company_db, prefix + "%")).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:06d}"


def insert_actor(conn: sqlite3.Connection, company_db: str, actor_type: str, stored: dict[str, Any],
                 company_id: int | None = None) -> str:
    key, stamp = next_key(conn, company_db, actor_type), utc_now()
    columns = {"company_db": company_db, "erp_key": key, "last_modified": stamp, **stored}
    if actor_type == PERSON:
        columns["company_id"] = company_id
        table = "persons"
    else:
        columns["kind"] = actor_type
        table = "companies"
    conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                 list(columns.values()))
    return key


def update_actor(conn: sqlite3.Connection, actor_id: int, actor_type: str, stored: dict[str, Any],
                 stamp: str) -> None:
    """Write only the columns given and refresh LastModified."""
    table = "persons" if actor_type == PERSON else "companies"
    columns = {**stored, "last_modified": stamp}
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*columns.values(), actor_id])

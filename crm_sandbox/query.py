"""The OData subset of the CRM's list endpoints: $select, $filter, $orderBy, $top and $skip.

$filter is conditions joined by ``and``: ``Field eq 'text'`` / ``eq 12`` / ``ne``, ``Field begins 'x'``,
``Field contains 'x'`` (both case-insensitive), ``gt``/``ge``/``lt``/``le`` on numbers, and
``updated afterTime '<ISO>'`` (UpdatedDate strictly after). Field names are case-insensitive.
"""

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .entities import Entity, Field, InvalidValue, parse_time

DEFAULT_TOP = 50
MAX_TOP = 1000
MAX_SKIP = 10_000_000
MAX_CONDITIONS = 20

TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])"
                   r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>\S))")

NUMERIC_OPS = {"eq": "exact", "ne": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
TEXT_OPS = {"eq": "exact", "ne": "exact", "begins": "istartswith", "contains": "icontains"}
OPERATORS = {**NUMERIC_OPS, **TEXT_OPS, "aftertime": "gt"}


class QueryError(ValueError):
    """A $-parameter the sandbox cannot answer; the message says what is wrong."""


@dataclass(frozen=True)
class Column:
    """A name usable in $filter and $orderBy: a served field or an alias."""

    name: str
    path: str
    kind: str


def _column(entity: Entity, name: str, *, purpose: str) -> Column:
    lowered = name.lower()
    if lowered == "updated":
        return Column("updated", "updated_date", "datetime")
    spec: Field | None = entity.field(name)
    if spec is not None and spec.sortable:
        return Column(spec.name, "pk" if spec.kind == "id" else spec.attr, spec.kind)
    if lowered in entity.aliases:
        path, kind = entity.aliases[lowered]
        return Column(name, path, kind)
    if spec is not None:
        raise QueryError(f"{purpose}: {spec.name} cannot be used here; use a text, number or date field.")
    raise QueryError(f"{purpose}: unknown field '{name}' for {entity.name}.")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(column: Column, operator: str, token: tuple[str, str]):
    kind, raw = token
    if column.kind == "datetime":
        if operator != "aftertime":
            raise QueryError(f"$filter: {column.name} takes afterTime '<ISO date and time>'.")
        if kind != "string":
            raise QueryError("$filter: afterTime needs a quoted date and time, e.g. '2026-12-04T10:00:00Z'.")
        try:
            return parse_time(column.name, raw[1:-1].replace("''", "'"))
        except InvalidValue as exc:
            raise QueryError(f"$filter: {exc}") from exc
    if operator == "aftertime":
        raise QueryError(f"$filter: afterTime works on dates (updated), not on {column.name}.")
    if column.kind in {"id", "int", "float"}:
        if operator not in NUMERIC_OPS:
            raise QueryError(f"$filter: {column.name} is a number; use eq, ne, gt, ge, lt or le.")
        if kind != "number" or (column.kind != "float" and "." in raw):
            raise QueryError(f"$filter: {column.name} {operator} needs a number, not {raw}.")
        return float(raw) if column.kind == "float" else int(raw)
    if column.kind == "bool":
        if operator not in {"eq", "ne"} or raw.lower() not in {"true", "false", "1", "0"}:
            raise QueryError(f"$filter: {column.name} takes eq or ne with true or false.")
        return raw.lower() in {"true", "1"}
    if operator not in TEXT_OPS:
        raise QueryError(f"$filter: {column.name} is text; use eq, ne, begins or contains.")
    if kind != "string":
        raise QueryError(f"$filter: {column.name} {operator} needs a quoted string, e.g. 'Acme'.")
    return raw[1:-1].replace("''", "'")


def parse_filter(entity: Entity, text: str) -> Q:
    tokens = _tokens(text)
    if not tokens:
        return Q()
    condition = Q()
    position, count = 0, 0
    while True:
        if position + 3 > len(tokens):
            raise QueryError("$filter: a condition is '<field> <operator> <value>', e.g. Name begins 'A'.")
        (name_kind, name), (op_kind, op), value = tokens[position:position + 3]
        if name_kind != "word":
            raise QueryError(f"$filter: expected a field name, found {name}.")
        column = _column(entity, name, purpose="$filter")
        operator = op.lower()
        if op_kind != "word" or operator not in OPERATORS:
            raise QueryError(f"$filter: unknown operator '{op}'; use eq, ne, gt, ge, lt, le, begins, "
                             "contains or afterTime.")
        literal = _literal(column, operator, value)
        clause = Q(**{f"{column.path}__{OPERATORS[operator]}": literal})
        condition &= ~clause if operator == "ne" else clause
        count += 1
        if count > MAX_CONDITIONS:
            raise QueryError(f"$filter: at most {MAX_CONDITIONS} conditions.")
        position += 3
        if position == len(tokens):
            return condition
        kind, word = tokens[position]
        if kind != "word" or word.lower() != "and":
            raise QueryError(f"$filter: expected 'and' between conditions, found {word}.")
        position += 1


def parse_order(entity: Entity, text: str) -> list[str]:
    order = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in {"asc", "desc"}):
            raise QueryError(f"$orderBy: '{part.strip()}' is not '<field> [asc|desc]'.")
        column = _column(entity, words[0], purpose="$orderBy")
        order.append(("-" if len(words) == 2 and words[1].lower() == "desc" else "") + column.path)
    # The id last, so equal values come in the same order on every page.
    return [*order, "pk"]


def parse_select(entity: Entity, text: str) -> list[Field] | None:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    if not names:
        return None
    selected = []
    for name in names:
        spec = entity.field(name)
        if spec is None:
            raise QueryError(f"$select: unknown field '{name}' for {entity.name}.")
        if spec not in selected:
            selected.append(spec)
    return selected


def parse_int(name: str, raw: str | None, *, default: int, minimum: int, maximum: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    if not re.fullmatch(r"\s*\d{1,12}\s*", raw):
        raise QueryError(f"{name} must be a whole number, not '{raw[:40]}'.")
    value = int(raw)
    if value < minimum:
        raise QueryError(f"{name} must be at least {minimum}.")
    return min(value, maximum)


@dataclass
class ListQuery:
    selected: list[Field] | None
    condition: Q
    order: list[str]
    top: int
    skip: int

    def page(self, queryset: QuerySet) -> tuple[list, bool]:
        """The rows of this page and whether another page follows (one row more is read to know)."""
        rows = list(queryset.filter(self.condition).order_by(*self.order)[self.skip:self.skip + self.top + 1])
        return rows[:self.top], len(rows) > self.top


def parse_list_query(entity: Entity, params) -> ListQuery:
    # Parameter names are matched case-insensitively ($orderby and $orderBy are both seen).
    lowered = {key.lower(): value for key, value in params.items()}
    return ListQuery(
        selected=parse_select(entity, lowered.get("$select", "")),
        condition=parse_filter(entity, lowered.get("$filter", "")),
        order=parse_order(entity, lowered.get("$orderby", "")),
        top=parse_int("$top", lowered.get("$top"), default=DEFAULT_TOP, minimum=1, maximum=MAX_TOP),
        skip=parse_int("$skip", lowered.get("$skip"), default=0, minimum=0, maximum=MAX_SKIP),
    )

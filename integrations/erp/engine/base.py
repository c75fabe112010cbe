"""What the parts of the ERP sync engine share: its limits, its exceptions, the plan of a run (the
enabled actor types and their mapped fields) and small conversions of times and values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ...models import ActorTypeMapping
from ..crm_fields import CrmField

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

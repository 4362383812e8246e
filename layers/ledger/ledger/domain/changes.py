"""A change is what one write did to an account; the journal turns each change into a history entry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from ledger.domain.errors import InvalidRequest

EntryType = Literal[
    "purchase",
    "auto_top_up",
    "grant",
    "consumption",
    "hold",
    "capture",
    "release",
    "refund",
    "dispute",
    "expiry",
    "adjustment",
    "unrecorded",  # a write whose entries the journal could not write (kept for an operator, see journal.py)
]
ENTRY_TYPES: tuple[str, ...] = get_args(EntryType)
# a grant's entry type follows its source
ENTRY_TYPE_OF_SOURCE = {
    "purchase": "purchase",
    "auto_top_up": "auto_top_up",
    "promotional": "grant",
    "subscription": "grant",
    "adjustment": "adjustment",
}


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    type: str
    amount: int  # signed change to the balance
    created_at: str  # ISO 8601, milliseconds, UTC
    held_delta: int = 0  # signed change to the held amount (holds, captures, releases)
    operation: str | None = None
    reference: str | None = None
    description: str | None = None
    record: str | None = None  # sort key of the item that remembers this write's result
    extra: dict[str, Any] = field(default_factory=dict)

    def to_map(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    @classmethod
    def from_map(cls, values: dict[str, Any]) -> Change:
        return cls(**{k: values[k] for k in cls.__slots__ if k in values})


@dataclass(frozen=True, slots=True)
class Entry:
    """A history entry: a change with its place in the account's sequence and the running balance."""

    id: str
    type: str
    amount: int
    balance_after: int | None
    held_after: int | None
    seq: int | None
    created_at: str
    operation: str | None = None
    reference: str | None = None
    description: str | None = None
    hold_id: str | None = None
    grant_id: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def of(cls, change: Change, seq: int | None, balance_after: int | None, held_after: int | None) -> Entry:
        return cls(
            id=change.id,
            type=change.type,
            amount=change.amount,
            balance_after=balance_after,
            held_after=held_after,
            seq=seq,
            created_at=change.created_at,
            operation=change.operation,
            reference=change.reference,
            description=change.description,
            hold_id=change.extra.get("hold_id"),
            grant_id=change.extra.get("grant_id"),
            metadata=change.extra.get("metadata"),
        )

    def to_map(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_map(cls, values: dict[str, Any]) -> Entry:
        return cls(**{k: values.get(k) for k in cls.__slots__})  # type: ignore[arg-type]


# The moments a caller may give: a day inside the years 1 to 9999 in UTC, so that turning one into UTC, into
# epoch seconds and back, or widening a window by the margins the reads add, stays a date Python can hold.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def check_moment(name: str, moment: datetime) -> None:
    """InvalidRequest unless ``moment`` (with its time zone) lies between EARLIEST and LATEST."""
    if moment.tzinfo is not None and not EARLIEST <= moment <= LATEST:
        raise InvalidRequest(f"{name} must be between {EARLIEST.date()} and {LATEST.date()} (UTC)")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def digest(*parts: str, size: int = 24) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:size]


def request_hash(request: dict[str, Any]) -> str:
    """Canonical hash of a write's body, to tell a retry from a different request under the same key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

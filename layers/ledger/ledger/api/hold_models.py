"""Request and response bodies of holds: place, capture, release, read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from ledger.api.models import Amount, EntryOut, IdempotencyKey, Operation
from ledger.domain.amounts import MAX_HOLD_SECONDS
from ledger.domain.changes import iso
from ledger.shapes import Request, Rule

if TYPE_CHECKING:
    from ledger.usecases.hold import CaptureResult, Hold


@dataclass(kw_only=True)
class HoldIn(Request):
    amount: Amount
    idempotency_key: IdempotencyKey
    expires_in_seconds: Annotated[int, Rule(strict=True, ge=1, le=MAX_HOLD_SECONDS)] | None = None
    operation: Operation | None = None


@dataclass(kw_only=True)
class CaptureIn(Request):
    amount: Annotated[
        Amount | None, Rule(description="Credits to capture; the rest is released. Default all.")
    ] = None


@dataclass(kw_only=True)
class HoldOut:
    hold_id: str
    amount: int
    expires_at: str
    status: Literal["open", "captured", "released", "expired"]
    operation: str | None = None
    captured: int | None = None
    released: int | None = None

    @classmethod
    def of(cls, hold: Hold) -> HoldOut:
        return cls(
            hold_id=hold.hold_id,
            amount=hold.amount,
            expires_at=iso(hold.expires_at),
            status=hold.status,  # type: ignore[arg-type]
            operation=hold.operation,
            captured=hold.captured,
            released=hold.released,
        )


@dataclass(kw_only=True)
class HoldResolutionOut:
    """A capture or release: what was captured, what went back to available, and the entry it made."""

    hold_id: str
    status: Literal["captured", "released"]
    captured: int
    released: int
    entry: EntryOut
    balance: int
    available: int

    @classmethod
    def of(cls, done: CaptureResult) -> HoldResolutionOut:
        return cls(
            hold_id=done.hold.hold_id,
            status=done.hold.status,  # type: ignore[arg-type]
            captured=done.hold.captured or 0,
            released=done.hold.released or 0,
            entry=EntryOut.of(done.result.entry),
            balance=done.result.balance,
            available=done.result.available,
        )

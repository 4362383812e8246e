"""Request and response bodies. Integers are strict: 10.0, "10" and true are refused, never coerced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from ledger.api.base import Model
from ledger.domain.amounts import MAX_AMOUNT, MAX_HOLD_SECONDS, MAX_LIMIT
from ledger.domain.changes import Entry, EntryType, from_epoch, iso
from ledger.domain.grants import Source

if TYPE_CHECKING:  # what the models are made from: a function imports only the use cases it calls
    from ledger.usecases.common import WriteResult
    from ledger.usecases.grant import GrantResult
    from ledger.usecases.hold import CaptureResult, Hold
    from ledger.usecases.limits import Limits
    from ledger.usecases.reads import BalanceCard, Page, Usage
    from ledger.usecases.timeline import BalanceAt

Amount = Annotated[int, Field(strict=True, ge=1, le=MAX_AMOUNT, description="Whole credits, 1 to 10^12.")]
IdempotencyKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9._:/=+\-]{1,128}$",
        description="Retrying with the same key and body returns the first result and writes nothing.",
    ),
]
Operation = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9_.:\-]{0,63}$", description="What the credits paid for.")
]
Metadata = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=40)], Annotated[str, Field(max_length=256)]],
    Field(max_length=10),
]


class Request(Model):
    model_config = ConfigDict(extra="forbid")


class DebitIn(Request):
    amount: Amount
    operation: Operation
    idempotency_key: IdempotencyKey
    metadata: Metadata | None = None


class HoldIn(Request):
    amount: Amount
    idempotency_key: IdempotencyKey
    expires_in_seconds: Annotated[int, Field(strict=True, ge=1, le=MAX_HOLD_SECONDS)] | None = None
    operation: Operation | None = None


class CaptureIn(Request):
    amount: Amount | None = Field(
        default=None, description="Credits to capture; the rest is released. Default all."
    )


class GrantIn(Request):
    amount: Amount
    source: Source
    idempotency_key: IdempotencyKey
    expires_at: AwareDatetime | None = None
    priority: Annotated[int, Field(strict=True, ge=0, le=1000)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None


class AdjustmentIn(Request):
    amount: Annotated[
        int,
        Field(
            strict=True,
            ge=-MAX_AMOUNT,
            le=MAX_AMOUNT,
            description="Credits to add (positive) or take back (negative); never 0.",
        ),
    ]
    reason: Annotated[
        str, Field(min_length=1, max_length=200, description="Kept in the history and the export.")
    ]
    idempotency_key: IdempotencyKey
    allow_below_floor: Annotated[
        bool,
        Field(
            strict=True,
            description="A negative adjustment may take the account below its floor (a debt the next credits "
            "pay first). Default: refused with 402 instead.",
        ),
    ] = False


class LimitsIn(Request):
    low_balance_threshold: Annotated[int, Field(strict=True, ge=0, le=MAX_LIMIT)]
    hard_limit: Annotated[int, Field(strict=True, ge=-MAX_LIMIT, le=MAX_LIMIT)]


class LimitsOut(LimitsIn):
    @classmethod
    def of(cls, limits: Limits) -> LimitsOut:
        return cls(low_balance_threshold=limits.low_balance_threshold, hard_limit=limits.hard_limit)


class EntryOut(Model):
    id: str
    type: EntryType
    amount: int
    balance_after: int | None
    created_at: str
    operation: str | None = None
    reference: str | None = None
    description: str | None = None
    hold_id: str | None = None
    grant_id: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls.model_validate(entry, from_attributes=True)  # the public fields of the ledger's entry


class WriteOut(Model):
    entry: EntryOut
    balance: int
    available: int

    @classmethod
    def of(cls, result: WriteResult) -> WriteOut:
        return cls(entry=EntryOut.of(result.entry), balance=result.balance, available=result.available)


class HoldOut(Model):
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


class HoldResolutionOut(Model):
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


class GrantOut(Model):
    id: str
    amount: int
    remaining: int
    source: Source
    priority: int
    expires_at: str | None
    created_at: str
    description: str | None = None


class GrantResultOut(Model):
    grant: GrantOut
    entry: EntryOut
    balance: int
    available: int

    @classmethod
    def of(cls, made: GrantResult) -> GrantResultOut:
        g = made.grant
        grant = GrantOut(
            id=g.id,
            amount=g.amount,
            remaining=g.amount,
            source=g.source,  # type: ignore[arg-type]
            priority=g.priority,
            expires_at=iso(from_epoch(g.expires_at)) if g.expires_at else None,
            created_at=iso(datetime.fromtimestamp(g.created_at / 1000, UTC)),
            description=made.description,
        )
        result = made.result
        return cls(
            grant=grant, entry=EntryOut.of(result.entry), balance=result.balance, available=result.available
        )


class ExpiringOut(Model):
    amount: int
    expires_at: str


class AutoTopUpOut(Model):
    enabled: bool
    threshold: int | None
    amount: int | None
    disabled_reason: str | None = Field(default=None, description="Why auto top-up turned itself off.")


class BalanceCardOut(Model):
    account_id: str
    balance: int
    held: int
    available: int
    lifetime_added: int
    lifetime_spent: int
    lifetime_expired: int
    lifetime_clawed_back: int = Field(description="Credits taken back by refunds and disputes.")
    low_balance: bool
    low_balance_threshold: int
    hard_limit: int
    last_payment_at: str | None
    estimated_runway_seconds: int | None
    expiring_soon: list[ExpiringOut]
    recent_transactions: list[EntryOut]
    auto_top_up: AutoTopUpOut

    @classmethod
    def of(cls, card: BalanceCard) -> BalanceCardOut:
        a = card.account
        return cls(
            account_id=a.account_id,
            balance=a.balance,
            held=a.held,
            available=a.available,
            lifetime_added=a.lifetime_added,
            lifetime_spent=a.lifetime_spent,
            lifetime_expired=a.lifetime_expired,
            lifetime_clawed_back=a.lifetime_clawed_back,
            low_balance=card.low_balance,
            low_balance_threshold=card.low_balance_threshold,
            hard_limit=a.hard_limit,
            last_payment_at=a.last_payment_at,
            estimated_runway_seconds=card.estimated_runway_seconds,
            expiring_soon=[
                ExpiringOut(amount=e.amount, expires_at=iso(e.expires_at)) for e in card.expiring_soon
            ],
            recent_transactions=[EntryOut.of(e) for e in card.recent],
            auto_top_up=AutoTopUpOut(
                enabled=card.top_up.enabled,
                threshold=card.top_up.threshold,
                amount=card.top_up.amount,
                disabled_reason=card.top_up.disabled_reason,
            ),
        )


class BalanceAtOut(Model):
    """The figures as they were at ``at``, from the history: those after ``seq``, the last entry at or before
    ``at`` (``as_of`` its time). Lifetime totals are not included: they would need the whole history."""

    at: str
    seq: int | None = Field(description="The last entry at or before at; null before the first entry.")
    as_of: str | None = Field(description="That entry's created_at; null before the first entry.")
    balance: int
    held: int
    available: int = Field(description="balance - held")

    @classmethod
    def of(cls, figures: BalanceAt) -> BalanceAtOut:
        entry = figures.entry
        return cls(
            at=iso(figures.at),
            seq=entry.seq if entry else None,
            as_of=entry.created_at if entry else None,
            balance=figures.balance,
            held=figures.held,
            available=figures.available,
        )


class TransactionsPageOut(Model):
    items: list[EntryOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page) -> TransactionsPageOut:
        return cls(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


class UsageDayOut(Model):
    date: date
    total: int
    by_operation: dict[str, int]


class UsageOut(Model):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    total: int
    by_operation: dict[str, int]
    by_day: list[UsageDayOut]

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        days = [
            UsageDayOut(date=date.fromisoformat(d.date), total=d.total, by_operation=d.by_operation)
            for d in usage.by_day
        ]
        values = {
            "from": usage.start,
            "to": usage.end,
            "total": usage.total,
            "by_operation": usage.by_operation,
        }
        return cls.model_validate({**values, "by_day": days})


class ErrorOut(Model):
    error: str = Field(
        description="A stable code, e.g. insufficient_credits, idempotency_conflict, forbidden."
    )
    message: str

"""The API's shared field types, and the bodies of debits, adjustments and limits, the entry every write
answers with, and the error (dataclasses: see ``ledger.shapes``). Integers are strict: 10.0, "10" and true are
refused, never coerced. The other routes' bodies are in ``<topic>_models.py`` beside this module: a function
imports only the ones it serves."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated

from ledger.domain.amounts import MAX_AMOUNT, MAX_LIMIT
from ledger.domain.changes import Entry, EntryType
from ledger.shapes import Request, Rule

if TYPE_CHECKING:  # what the models are made from: a function imports only the use cases it calls
    from ledger.usecases.common import WriteResult
    from ledger.usecases.limits import Limits

Amount = Annotated[int, Rule(strict=True, ge=1, le=MAX_AMOUNT, description="Whole credits, 1 to 10^12.")]
IdempotencyKey = Annotated[
    str,
    Rule(
        pattern=r"^[A-Za-z0-9._:/=+\-]{1,128}$",
        description="Retrying with the same key and body returns the first result and writes nothing.",
    ),
]
Operation = Annotated[
    str, Rule(pattern=r"^[a-z0-9][a-z0-9_.:\-]{0,63}$", description="What the credits paid for.")
]
Metadata = Annotated[
    dict[Annotated[str, Rule(min_length=1, max_length=40)], Annotated[str, Rule(max_length=256)]],
    Rule(max_length=10),
]


@dataclass(kw_only=True)
class DebitIn(Request):
    amount: Amount
    operation: Operation
    idempotency_key: IdempotencyKey
    metadata: Metadata | None = None


@dataclass(kw_only=True)
class AdjustmentIn(Request):
    amount: Annotated[
        int,
        Rule(
            strict=True,
            ge=-MAX_AMOUNT,
            le=MAX_AMOUNT,
            description="Credits to add (positive) or take back (negative); never 0.",
        ),
    ]
    reason: Annotated[
        str, Rule(min_length=1, max_length=200, description="Kept in the history and the export.")
    ]
    idempotency_key: IdempotencyKey
    allow_below_floor: Annotated[
        bool,
        Rule(
            strict=True,
            description="A negative adjustment may take the account below its floor (a debt the next credits "
            "pay first). Default: refused with 402 instead.",
        ),
    ] = False


@dataclass(kw_only=True)
class LimitsIn(Request):
    low_balance_threshold: Annotated[int, Rule(strict=True, ge=0, le=MAX_LIMIT)]
    hard_limit: Annotated[int, Rule(strict=True, ge=-MAX_LIMIT, le=MAX_LIMIT)]


@dataclass(kw_only=True)
class LimitsOut(LimitsIn):
    @classmethod
    def of(cls, limits: Limits) -> LimitsOut:
        return cls(low_balance_threshold=limits.low_balance_threshold, hard_limit=limits.hard_limit)


@dataclass(kw_only=True)
class EntryOut:
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
        return cls(**{f.name: getattr(entry, f.name) for f in fields(cls)})  # the entry's public fields


@dataclass(kw_only=True)
class WriteOut:
    entry: EntryOut
    balance: int
    available: int

    @classmethod
    def of(cls, result: WriteResult) -> WriteOut:
        return cls(entry=EntryOut.of(result.entry), balance=result.balance, available=result.available)


@dataclass(kw_only=True)
class ErrorOut:
    error: Annotated[
        str, Rule(description="A stable code, e.g. insufficient_credits, idempotency_conflict, forbidden.")
    ]
    message: str

"""Request and response bodies of batched usage (POST /usage/batch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from ledger.api.models import EntryOut
from ledger.shapes import Request, Rule
from ledger.usecases.debit_many import MAX_EVENTS, UsageResult


@dataclass(kw_only=True)
class UsageBatchIn(Request):
    events: Annotated[
        list[Any],
        Rule(min_length=1, max_length=MAX_EVENTS),
        Rule(
            description=(
                f"1 to {MAX_EVENTS} usage events, each {{account_id, amount, operation, idempotency_key, metadata?}} "
                "with the rules of POST /accounts/{account_id}/usage; one that breaks them gets its own `invalid` "
                "result and the others are applied."
            )
        ),
    ]


@dataclass(kw_only=True)
class UsageResultOut:
    """One event's result. accepted / duplicate: the entry and the account's balance and available after;
    insufficient_credits: available (what was left for it, after the account's earlier events in the batch),
    requested and hard_limit; conflict / invalid: error and message."""

    status: Literal["accepted", "duplicate", "insufficient_credits", "conflict", "invalid"]
    entry: EntryOut | None = None
    balance: int | None = None
    available: int | None = None
    requested: int | None = None
    hard_limit: int | None = None
    error: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, outcome: UsageResult) -> UsageResultOut:
        if outcome.result is not None:
            r = outcome.result
            return cls(
                status=outcome.status, entry=EntryOut.of(r.entry), balance=r.balance, available=r.available
            )
        assert outcome.error is not None
        details = {
            k: v for k, v in outcome.error.details.items() if k in ("available", "requested", "hard_limit")
        }
        return cls(status=outcome.status, error=outcome.error.code, message=outcome.error.message, **details)


@dataclass(kw_only=True)
class UsageBatchOut:
    results: Annotated[list[UsageResultOut], Rule(description="One result per event, in request order.")]

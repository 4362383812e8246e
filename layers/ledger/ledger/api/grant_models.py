"""Request and response bodies of grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from ledger.api.models import Amount, EntryOut, IdempotencyKey
from ledger.domain.changes import from_epoch, iso
from ledger.domain.grants import Source
from ledger.shapes import AwareDatetime, Request, Rule

if TYPE_CHECKING:
    from ledger.usecases.grant import GrantResult


@dataclass(kw_only=True)
class GrantIn(Request):
    amount: Amount
    source: Source
    idempotency_key: IdempotencyKey
    expires_at: AwareDatetime | None = None
    priority: Annotated[int, Rule(strict=True, ge=0, le=1000)] | None = None
    description: Annotated[str, Rule(max_length=200)] | None = None


@dataclass(kw_only=True)
class GrantOut:
    id: str
    amount: int
    remaining: int
    source: Source
    priority: int
    expires_at: str | None
    created_at: str
    description: str | None = None


@dataclass(kw_only=True)
class GrantResultOut:
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

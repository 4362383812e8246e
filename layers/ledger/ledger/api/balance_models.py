"""Response bodies of the balance card and of the balance at a past moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from ledger.api.models import EntryOut
from ledger.domain.changes import iso
from ledger.shapes import Rule

if TYPE_CHECKING:
    from ledger.usecases.balance import BalanceCard
    from ledger.usecases.timeline import BalanceAt


@dataclass(kw_only=True)
class ExpiringOut:
    amount: int
    expires_at: str


@dataclass(kw_only=True)
class AutoTopUpOut:
    enabled: bool
    threshold: int | None
    amount: int | None
    disabled_reason: Annotated[str | None, Rule(description="Why auto top-up turned itself off.")] = None


@dataclass(kw_only=True)
class BalanceCardOut:
    account_id: str
    balance: int
    held: int
    available: int
    lifetime_added: int
    lifetime_spent: int
    lifetime_expired: int
    lifetime_clawed_back: Annotated[int, Rule(description="Credits taken back by refunds and disputes.")]
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


@dataclass(kw_only=True)
class BalanceAtOut:
    """The figures as they were at ``at``, from the history: those after ``seq``, the last entry at or before
    ``at`` (``as_of`` its time). Lifetime totals are not included: they would need the whole history."""

    at: str
    seq: Annotated[
        int | None, Rule(description="The last entry at or before at; null before the first entry.")
    ]
    as_of: Annotated[str | None, Rule(description="That entry's created_at; null before the first entry.")]
    balance: int
    held: int
    available: Annotated[int, Rule(description="balance - held")]

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

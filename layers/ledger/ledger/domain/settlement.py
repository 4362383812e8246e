"""What is due on an account at a moment: the grants that expire (with their exact remainders) and the holds
that lapse. The expiry write applies this plan; reads apply it in memory, so they show an account as it is
now even before anything was written.

The account's ``grants`` need not be all of its grants: the ones consumption can have reached since the last
settlement, the arrivals since, the ones expiring by ``at`` and, per priority, the first that survives are
enough (store/grants.py says why). Its ``holds``: the lapsed ones and the next to lapse."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.domain.account import Account, OpenHold
from ledger.domain.grants import Grant, next_expiry, settle


@dataclass(frozen=True, slots=True)
class DuePlan:
    kept: list[Grant]  # live grants after settlement, remainders exact
    expiring: list[Grant]  # grants whose remainder expires now
    expired_holds: list[OpenHold]
    open_holds: list[OpenHold]
    debt: int
    due: int | None  # the next moment something falls due

    @property
    def expired(self) -> int:
        return sum(g.remaining for g in self.expiring)

    @property
    def released(self) -> int:
        return sum(h.amount for h in self.expired_holds)


def plan_due(
    account: Account, at: int, max_holds: int | None = None, level: int | None = None, cut: int | None = None
) -> DuePlan:
    """``level``: the part of ``unsettled`` to settle (default all); ``cut``: a moment at or before which more
    grants expire than were read (the next settlement goes on from there)."""
    settlement = settle(account.grants, account.unsettled if level is None else level)
    expiring = [g for g in settlement.grants if g.expires_at is not None and g.expires_at <= at]
    kept = [g for g in settlement.grants if g not in expiring]
    lapsed = [h for h in account.holds if h.expires_at <= at][:max_holds]
    still_open = [h for h in account.holds if h not in lapsed]
    due = min(filter(None, [next_expiry(kept), cut, *(h.expires_at for h in still_open)]), default=None)
    return DuePlan(kept, expiring, lapsed, still_open, settlement.debt, due)


def as_of(account: Account, at: int) -> Account:
    """The account with everything due by ``at`` applied (grants expired, holds released), written or not."""
    plan = plan_due(account, at)
    return replace(
        account,
        balance=account.balance - plan.expired,
        held=account.held - plan.released,
        lifetime_expired=account.lifetime_expired + plan.expired,
        unsettled=plan.debt,
        due=plan.due,
        grants=plan.kept,
        holds=plan.open_holds,
    )

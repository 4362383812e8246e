"""Per-account limits: the floor (hard_limit) and the low-balance threshold (soft limit)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import settings
from ledger.domain.account import Account
from ledger.domain.amounts import MAX_LIMIT
from ledger.domain.changes import utcnow
from ledger.domain.errors import Busy, InvalidRequest
from ledger.domain.thresholds import threshold_in_force
from ledger.store.results import read_account
from ledger.store.schema import account_key
from ledger.store.writes import Cancelled, Expr, transact
from ledger.usecases.hot import freeze, frozen_by, unfreeze

RETRIES = 5


@dataclass(frozen=True, slots=True)
class Limits:
    low_balance_threshold: int
    hard_limit: int


def low_balance_threshold(account: Account) -> int:
    """The account's own threshold; else its auto top-up threshold while auto top-up is on; else the
    deployment's default."""
    return threshold_in_force(
        account.low_balance_threshold, account.top_up_threshold, settings.default_low_balance_threshold()
    )


def get_limits(account_id: str) -> Limits:
    account = read_account(account_id)
    return Limits(low_balance_threshold(account), account.hard_limit)


def set_limits(
    account_id: str, low_balance_threshold: int, hard_limit: int, allow_overdraft: bool = False
) -> Limits:
    """Set both limits. A negative floor (an overdraft allowance) needs ``allow_overdraft``: the SaaS grants it,
    not the customer; an account's own caller may keep an overdraft it was given but not create or widen one."""
    if not 0 <= low_balance_threshold <= MAX_LIMIT:
        raise InvalidRequest(f"low_balance_threshold must be from 0 to {MAX_LIMIT}")
    if not -MAX_LIMIT <= hard_limit <= MAX_LIMIT:
        raise InvalidRequest(f"hard_limit must be from {-MAX_LIMIT} to {MAX_LIMIT}")
    for _ in range(RETRIES):
        account = read_account(account_id)
        current = account.hard_limit
        if hard_limit < 0 and hard_limit < current and not allow_overdraft:
            raise InvalidRequest(
                "a negative hard_limit (overdraft) is granted by the service, not the account"
            )
        # a hot account's shards hold credits lent under the old floor: they come back first
        token = freeze(account_id, utcnow()) if account.shards else None
        expr = frozen_by(Expr(), token)
        if current:
            expr.when("{a_limit} = {current}", a_limit="hard_limit", current=current)
        else:
            expr.when("attribute_not_exists({a_limit}) OR {a_limit} = {zero}", a_limit="hard_limit", zero=0)
        # spendable = available - hard_limit moves with the floor; concurrent debits only change it relatively
        expr.add("spendable", current - hard_limit).add("balance", 0).add("held", 0)
        expr.set("hard_limit", hard_limit).set("low_balance_threshold", low_balance_threshold)
        try:
            transact([expr.update(account_key(account_id), return_old_on_failure=False)])
            return Limits(low_balance_threshold, hard_limit)
        except Cancelled:
            if token is not None:
                unfreeze(account_id, token)
            continue
    raise Busy("the limits changed concurrently; retry")

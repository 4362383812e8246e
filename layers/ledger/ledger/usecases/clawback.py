"""Clawback: credits taken back because their payment was refunded or disputed, or by an operator's
negative adjustment.

Unlike a debit it has no floor (unless ``floor``): the money is gone, so the balance may fall below the floor
(even below zero). That is a debt: ``spendable`` goes negative, debits are refused, and the next credits to
arrive pay it first. The credits are burned in the ordinary burn order, so expiry stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from ledger.domain.amounts import is_amount
from ledger.domain.changes import Change, digest, iso, utcnow
from ledger.domain.errors import InsufficientCredits, InvalidRequest
from ledger.store import table
from ledger.store.account_item import parse_account
from ledger.store.results import resolve
from ledger.store.writes import Cancelled, Expr, account_key, guard_due, stamp, transact
from ledger.usecases.common import WriteResult, check_key, record_put, replayed_change, write_with_due

ClawbackKind = Literal["refund", "dispute", "adjustment"]


def clawback(
    account_id: str,
    amount: int,
    kind: ClawbackKind,
    idempotency_key: str,
    reference: str,
    description: str | None = None,
    also: Sequence[dict[str, Any]] = (),
    now: datetime | None = None,
    floor: bool = False,
    identity: dict[str, Any] | None = None,
) -> WriteResult:
    """Take ``amount`` credits back, once per key; ``also``: more actions committed only with it (a failed
    condition on one of them raises Cancelled); ``floor``: refuse (InsufficientCredits) rather than take the
    account below its floor; ``identity``: what a retry must repeat to be one (default: the arguments)."""
    if not is_amount(amount):
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    now = now or utcnow()
    key = check_key(idempotency_key)
    request = identity or {"amount": amount, "kind": kind, "reference": reference}
    change = Change(
        id="ent_" + digest(account_id, kind, key),
        type=kind,
        amount=-amount,
        created_at=iso(now),
        reference=reference,
        description=description,
        record=table.idempotency_sk(key),
    )

    def attempt() -> WriteResult:
        expr = guard_due(Expr(), now)  # allocated like consumption: only to grants live now
        if floor:
            expr.when("{a_spendable} >= {amount}", a_spendable="spendable", amount=amount)
        expr.add("balance", -amount).add("spendable", -amount)
        expr.add("unsettled", amount).add("lifetime_clawed_back", amount)
        stamp(expr, [change])
        record = record_put(account_id, key, kind, request, change, now)
        transact([expr.update(account_key(account_id)), record, *also])
        return WriteResult.of(*resolve(account_id, change))

    def on_cancel(cancelled: Cancelled) -> WriteResult:
        if cancelled.failed(1):
            first = replayed_change(cancelled.old(1), key, kind, request)
            return WriteResult.of(*resolve(account_id, first), replayed=True)
        if floor and cancelled.failed(0):
            account = parse_account(account_id, cancelled.old(0))
            raise InsufficientCredits(account.available, amount, account.hard_limit)
        raise cancelled

    return write_with_due(account_id, now, attempt, on_cancel)

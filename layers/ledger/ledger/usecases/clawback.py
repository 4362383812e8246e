"""Clawback: credits taken back because their payment was refunded or disputed, or by an operator's
negative adjustment.

Unlike a debit it has no floor (unless ``floor``): the money is gone, so the balance may fall below the floor
(even below zero). That is a debt: ``spendable`` goes negative, debits are refused, and the next credits to
arrive pay it first. The credits are burned in the ordinary burn order, so expiry stays exact. A hot account is
frozen for it (its shards give back what they were lent), so what its shards may spend stays within its floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from ledger.domain.amounts import is_amount
from ledger.domain.changes import Change, digest, iso, utcnow
from ledger.domain.errors import Busy, InsufficientCredits, InvalidRequest
from ledger.store import schema
from ledger.store.account_item import parse_account
from ledger.store.results import resolve
from ledger.store.schema import account_key
from ledger.store.writes import Cancelled, Expr, guard_due, stamp, transact
from ledger.usecases.common import WriteResult, check_key, record_put, replayed_change, write_with_due
from ledger.usecases.hot import freeze, frozen_by, unfreeze

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
        record=schema.idempotency_sk(key),
    )

    token: str | None = None  # a hot account is frozen while credits are taken back (usecases/hot.py)

    def attempt() -> WriteResult:
        nonlocal token
        expr = frozen_by(guard_due(Expr(), now), token)  # allocated like consumption: to grants live now
        if floor:
            expr.when("{a_spendable} >= {amount}", a_spendable="spendable", amount=amount)
        expr.add("balance", -amount).add("spendable", -amount)
        expr.add("unsettled", amount).add("lifetime_clawed_back", amount)
        stamp(expr, [change])
        record = record_put(account_id, key, kind, request, change, now)
        transact([expr.update(account_key(account_id)), record, *also])
        token = None  # lifted by the write itself
        return WriteResult.of(*resolve(account_id, change))

    def on_cancel(cancelled: Cancelled) -> WriteResult | None:
        """The first result of a retry, a refusal, or None: freeze the hot account and try again."""
        nonlocal token
        if cancelled.failed(1):
            first = replayed_change(cancelled.old(1), key, kind, request)
            return WriteResult.of(*resolve(account_id, first), replayed=True)
        old = cancelled.old(0) or {}
        if cancelled.failed(0) and old.get("shards") and (token is None or old.get("frozen") != token):
            # its shards must hold nothing while credits are taken: else they could go on spending what they
            # were lent after the account fell below its floor (and the floor's condition would not be exact)
            token = freeze(account_id, now)
            return None
        if floor and cancelled.failed(0):
            account = parse_account(account_id, old)
            raise InsufficientCredits(account.available, amount, account.hard_limit)
        raise cancelled

    try:
        for _ in range(6):
            if (taken := write_with_due(account_id, now, attempt, on_cancel)) is not None:
                return taken
        raise Busy("the account kept changing while credits were taken back; retry with the same key")
    finally:
        if token is not None:
            unfreeze(account_id, token)

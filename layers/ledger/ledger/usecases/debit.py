"""Debit: consume credits for a unit of work. One conditional transaction; never below the floor."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ledger.domain.amounts import is_amount
from ledger.domain.changes import Change, digest, iso, utcnow
from ledger.domain.errors import Busy, InsufficientCredits, InvalidRequest
from ledger.domain.text import check_metadata, check_operation
from ledger.store import schema
from ledger.store.account_item import parse_account
from ledger.store.results import resolve, resolve_unposted
from ledger.store.schema import account_key, shard_key
from ledger.store.shards import parse_shard, spend
from ledger.store.writes import (
    Cancelled,
    Expr,
    count_consumption,
    guard_due,
    keys_in_place,
    keys_moving,
    not_hot,
    stamp,
    transact,
)
from ledger.usecases.common import (
    WriteResult,
    check_key,
    record_elsewhere,
    record_put,
    replayed_change,
    write_with_due,
)
from ledger.usecases.expire import settle_due, settle_if_due
from ledger.usecases.hot import DueNow, NotHot, hot_accounts, is_hot_refusal, lend, pick_shard

HOT_ATTEMPTS = 8


def usage_change(
    account_id: str,
    amount: int,
    operation: str,
    idempotency_key: str,
    metadata: dict[str, str] | None,
    now: datetime,
) -> tuple[Change, dict[str, Any]]:
    """A usage event checked, as the change it makes and the request its idempotency record remembers."""
    if not is_amount(amount):
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    check_operation(operation)
    check_metadata(metadata)
    key = check_key(idempotency_key)
    request = {"amount": amount, "operation": operation, "metadata": metadata or {}}
    change = Change(
        id="ent_" + digest(account_id, "debit", key),
        type="consumption",
        amount=-amount,
        created_at=iso(now),
        operation=operation,
        reference=key,
        record=schema.idempotency_sk(key),
        extra={"metadata": metadata} if metadata else {},
    )
    return change, request


def debit(
    account_id: str,
    amount: int,
    operation: str,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
    now: datetime | None = None,
) -> WriteResult:
    now = now or utcnow()
    change, request = usage_change(account_id, amount, operation, idempotency_key, metadata, now)
    key = idempotency_key
    if hot_accounts.shards(account_id):
        try:
            return _debit_hot(account_id, change, request, key, amount, now)
        except NotHot:
            pass

    both_places = False  # the account was hot lately: its key may have been used through a shard

    def attempt() -> WriteResult:
        expr = Expr().when("{a_spendable} >= {amount}", a_spendable="spendable", amount=amount)
        guard_due(not_hot(expr), now)
        expr.add("balance", -amount).add("spendable", -amount)
        count_consumption(expr, amount, now)
        stamp(expr, [change])
        if not both_places:
            keys_in_place(expr, now)
        actions = [
            expr.update(account_key(account_id)),
            record_put(account_id, key, "debit", request, change, now),
        ]
        if both_places:
            actions.append(record_elsewhere(account_id, key, hot=False))
        transact(actions)
        return WriteResult.of(*resolve(account_id, change))

    def on_cancel(cancelled: Cancelled) -> WriteResult:
        for position in (1, 2) if both_places else (1,):
            if cancelled.failed(position):
                first = replayed_change(cancelled.old(position), key, "debit", request)
                return WriteResult.of(*resolve(account_id, first), replayed=True)
        if not both_places and keys_moving(cancelled.old(0), now):
            raise _BothPlaces
        if is_hot_refusal(cancelled.old(0)):
            hot_accounts.saw(account_id, cancelled.old(0))
            try:
                return _debit_hot(account_id, change, request, key, amount, now)
            except NotHot:
                raise Busy("the account was made hot or not hot just now; retry with the same key") from None
        account = parse_account(account_id, cancelled.old(0))
        raise InsufficientCredits(account.available, amount, account.hard_limit)

    try:
        return write_with_due(account_id, now, attempt, on_cancel)
    except _BothPlaces:
        both_places = True
        return write_with_due(account_id, now, attempt, on_cancel)


class _BothPlaces(Exception):
    """The account's usage records moved place lately (it was made hot or not): check both."""


def _debit_hot(
    account_id: str, change: Change, request: dict[str, Any], key: str, amount: int, now: datetime
) -> WriteResult:
    """A hot account's debit: one shard's write and the idempotency record, on keys of their own."""
    change = replace(change, record=schema.own_record(key))
    shard = pick_shard(hot_accounts.shards(account_id))
    both_places = False  # made hot lately: the key may have been used on the account item
    for _ in range(HOT_ATTEMPTS):
        expr = spend(shard, amount, now).set("last", [change.to_map()])
        actions = [record_put(account_id, key, "debit", request, change, now)]
        if both_places:
            actions.append(record_elsewhere(account_id, key, hot=True))
        else:
            keys_in_place(expr, now)
        try:
            transact([expr.update(shard_key(account_id, shard)), *actions])
            return WriteResult.of(*resolve_unposted(account_id, change))
        except Cancelled as cancelled:
            for position in range(1, len(actions) + 1):
                if cancelled.failed(position):
                    settle_if_due(account_id, now)  # as a write on any account would first
                    first = replayed_change(cancelled.old(position), key, "debit", request)
                    return WriteResult.of(*resolve_unposted(account_id, first, replayed=True), replayed=True)
            if not both_places and keys_moving(cancelled.old(0), now):
                both_places = True
                continue
            holds = parse_shard(shard, cancelled.old(0)).allot
        try:
            lend(account_id, shard, amount, now, holds)
        except DueNow:
            settle_due(account_id, now)
    raise Busy("the account is too contended right now; retry with the same idempotency key")

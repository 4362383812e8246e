"""Batched usage: up to 100 debits across any accounts in one call, each with its own result.

Events are grouped by account, in request order. Each account's events are applied by one conditional
transaction per chunk of up to ``CHUNK``: the account update takes the chunk's sum (on condition that it
leaves the account at or above its floor and nothing is due, like a single debit), one idempotency record per
event (on condition that its key is new), and the batch item holding the chunk's changes for the journal
(store/batches.py). A cancelled transaction says why, item by item: a key already used makes that event a
``duplicate`` (same body) or a ``conflict`` (another body); an account without room for the whole chunk gives
its figures, from which the events are taken in request order, each accepted while it fits and refused
(``insufficient_credits``) when it does not; then the transaction is tried again with what is left. Every
decision is taken against the account as it was when DynamoDB refused the previous attempt, and the write
that commits is conditional on it, so no interleaving takes an account below its floor. Accounts never wait
for each other: one account's refusals do not touch another's events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from ledger.domain.account import Account
from ledger.domain.changes import Change, Entry, digest, request_hash, utcnow
from ledger.domain.errors import (
    Busy,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidRequest,
    LedgerError,
)
from ledger.store import schema
from ledger.store.account_item import parse_account
from ledger.store.batches import batch_put
from ledger.store.results import (
    get_account_item,
    read_account,
    resolve_batch,
    wait_for_entries,
)
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
    stamp_batch,
    transact,
)
from ledger.usecases.common import WriteResult, due_tripped, record_elsewhere, record_put
from ledger.usecases.debit import usage_change
from ledger.usecases.expire import settle_due, settle_if_due
from ledger.usecases.hot import DueNow, NotHot, hot_accounts, is_hot_refusal, lend, pick_shard

MAX_EVENTS = 100
CHUNK = 98  # a transaction takes 100 actions: the account update, the batch item and 98 records
ATTEMPTS = 8  # refusals and duplicates leave the chunk smaller each time; only contention repeats one
EVENT_FIELDS = {"account_id", "amount", "operation", "idempotency_key", "metadata"}

Status = Literal["accepted", "duplicate", "insufficient_credits", "conflict", "invalid"]


@dataclass(frozen=True, slots=True)
class UsageResult:
    """One event's outcome: ``result`` when accepted or a duplicate; ``error`` otherwise."""

    status: Status
    result: WriteResult | None = None
    error: LedgerError | None = None


@dataclass(slots=True)
class _Event:
    index: int
    account_id: str
    amount: int
    change: Change
    request: dict[str, Any]
    key: str
    repeats: list[_Event] = field(default_factory=list)  # the same key again later in this batch

    @property
    def hash(self) -> str:
        return request_hash({"operation": "debit", **self.request})


def debit_many(events: Sequence[Any], now: datetime | None = None) -> list[UsageResult]:
    """Debit each event (``{account_id, amount, operation, idempotency_key, metadata?}``) with one result per
    event, in request order. Raises only when ``events`` is not a batch at all (not a list, or over 100)."""
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Sequence):
        raise InvalidRequest("events must be a list of usage events")
    if len(events) > MAX_EVENTS:
        raise InvalidRequest(f"a batch holds at most {MAX_EVENTS} events, not {len(events)}")
    now = now or utcnow()
    results: list[UsageResult | None] = [None] * len(events)
    by_account: dict[str, list[_Event]] = {}
    first_of: dict[tuple[str, str], _Event] = {}
    for index, raw in enumerate(events):
        try:
            event = _event(index, raw, now)
        except LedgerError as error:
            results[index] = UsageResult("invalid", error=error)
            continue
        first = first_of.get((event.account_id, event.key))
        if first is not None:
            first.repeats.append(event)
            continue
        first_of[(event.account_id, event.key)] = event
        by_account.setdefault(event.account_id, []).append(event)
    for account_id, account_events in by_account.items():
        for start in range(0, len(account_events), CHUNK):
            _apply(account_id, account_events[start : start + CHUNK], now, results)
    for event in first_of.values():
        for repeat in event.repeats:
            results[repeat.index] = _repeat(event, repeat, results[event.index])
    done = [r for r in results if r is not None]
    assert len(done) == len(results), "every event ends with a result"
    return done


def _event(index: int, raw: Any, now: datetime) -> _Event:
    if not isinstance(raw, Mapping):
        raise InvalidRequest("each event must be an object")
    unknown = sorted(set(raw) - EVENT_FIELDS)
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r}")
    missing = [f for f in ("account_id", "amount", "operation", "idempotency_key") if f not in raw]
    if missing:
        raise InvalidRequest(f"{missing[0]} is required")
    account_id, amount, operation, key = (
        raw[f] for f in ("account_id", "amount", "operation", "idempotency_key")
    )
    if not isinstance(account_id, str):
        raise InvalidRequest("account_id must be a string")
    schema.account_pk(account_id)  # refuses ids the table cannot key
    if type(amount) is not int:
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    if not isinstance(operation, str):
        raise InvalidRequest("operation must be a string")
    if not isinstance(key, str):
        raise InvalidRequest("idempotency_key must be a string")
    metadata = raw.get("metadata")
    change, request = usage_change(account_id, amount, operation, key, metadata, now)
    return _Event(index, account_id, amount, change, request, key)


def _apply(
    account_id: str,
    chunk: list[_Event],
    now: datetime,
    results: list[UsageResult | None],
    both_places: bool = False,
) -> None:
    """Apply one account's chunk: every event of it ends with a result. ``both_places``: the account was made
    hot or not lately, so each key is checked in the other place its record may be too (half chunks)."""
    if hot_accounts.shards(account_id):
        try:
            return _apply_hot(account_id, chunk, now, results, both_places=both_places)
        except NotHot:
            pass
    live = list(chunk)
    replays: list[tuple[_Event, Change]] = []
    settlements = 0
    for attempt in range(ATTEMPTS):
        if not live:
            break
        # named after its events (and the attempt): the same request makes the same writes, and a batch item
        # left by keys used long ago (their records expired first) cannot block the next attempt
        batch_sk = schema.batch_sk(digest(account_id, str(attempt), *(e.key for e in live)))
        try:
            transact(_actions(account_id, live, batch_sk, now, both_places))
        except Cancelled as cancelled:
            if cancelled.failed(0) and due_tripped(cancelled.old(0), now) and settlements < 3:
                settle_due(account_id, now)
                settlements += 1
                continue
            if cancelled.failed(0) and keys_moving(cancelled.old(0), now) and not both_places:
                return _in_both_places(_apply, account_id, live, now, results, replays)
            if cancelled.failed(0) and is_hot_refusal(cancelled.old(0)):
                hot_accounts.saw(account_id, cancelled.old(0))
                try:
                    return _apply_hot(account_id, live, now, results, replays)
                except NotHot:
                    raise Busy(
                        "the account was made hot or not hot just now; retry with the same keys"
                    ) from None
            live = _after_refusal(account_id, live, cancelled, replays, results)
            continue
        entries, account = resolve_batch(account_id, batch_sk, [e.change for e in live])
        for event, entry in zip(live, entries, strict=True):
            results[event.index] = UsageResult("accepted", WriteResult.of(entry, account))
        live = []
        break
    if live:
        raise Busy("the account kept changing while this batch was applied; retry it with the same keys")
    if replays:
        _replayed(account_id, replays, results)


def _in_both_places(
    apply: Callable[..., None],
    account_id: str,
    live: list[_Event],
    now: datetime,
    results: list[UsageResult | None],
    replays: list[tuple[_Event, Change]],
) -> None:
    """Apply what is left checking each key in both places: a check per event, so half the events per write."""
    if replays:
        _replayed(account_id, replays, results)
    half = max(1, CHUNK // 2)
    for start in range(0, len(live), half):
        apply(account_id, live[start : start + half], now, results, both_places=True)


def _apply_hot(
    account_id: str,
    chunk: list[_Event],
    now: datetime,
    results: list[UsageResult | None],
    replays: list[tuple[_Event, Change]] | None = None,
    both_places: bool = False,
) -> None:
    """A hot account's chunk: one shard's write of the chunk's sum, its batch item and the records, each on
    a partition key of its own (store/shards.py). A shard short of credits borrows (usecases/hot.py); when
    the whole account is, the events are taken in request order against all its credits."""
    live = [replace(e, change=replace(e.change, record=schema.own_record(e.key))) for e in chunk]
    replays = replays if replays is not None else []
    shard = pick_shard(hot_accounts.shards(account_id))
    for attempt in range(ATTEMPTS):
        if not live:
            break
        batch_id = digest(account_id, "hot", str(attempt), *(e.key for e in live))
        batch_pk = schema.shard_batch_pk(account_id, shard, batch_id)
        total = sum(e.amount for e in live)
        expr = spend(shard, total, now).set(
            "last", [{"batch": schema.SHARD_BATCH_SK, "pk": batch_pk, "count": len(live)}]
        )
        if not both_places:
            keys_in_place(expr, now)
        try:
            transact(
                [
                    expr.update(shard_key(account_id, shard)),
                    batch_put(account_id, schema.SHARD_BATCH_SK, [e.change for e in live], now, pk=batch_pk),
                    *(record_put(account_id, e.key, "debit", e.request, e.change, now) for e in live),
                    *(record_elsewhere(account_id, e.key, hot=True) for e in live if both_places),
                ]
            )
        except Cancelled as cancelled:
            if cancelled.failed(0) and keys_moving(cancelled.old(0), now) and not both_places:
                return _in_both_places(_apply_hot, account_id, live, now, results, replays)
            if any(cancelled.failed(i) for i in range(2, len(cancelled.reasons))):
                settle_if_due(account_id, now)  # keys used before: answered as on any account
            live = _after_refusal(account_id, live, cancelled, replays, results, hot=True)
            if cancelled.failed(0) and live:
                holds = parse_shard(shard, cancelled.old(0)).allot
                live = _lend_or_refuse(account_id, shard, live, now, results, holds)
            continue
        account = read_account(account_id)
        for event in live:
            # numbered by the journal when it posts the shard's write
            results[event.index] = UsageResult(
                "accepted", WriteResult.of(Entry.of(event.change, None, None, None), account)
            )
        live = []
    if live:
        raise Busy("the account kept changing while this batch was applied; retry it with the same keys")
    if replays:
        _replayed(account_id, replays, results)


def _lend_or_refuse(
    account_id: str,
    shard: int,
    live: list[_Event],
    now: datetime,
    results: list[UsageResult | None],
    holds: int,
) -> list[_Event]:
    """Let the shard borrow for the events left; when the account has not enough for all of them, take them in
    request order against all its credits: those that do not fit are refused."""
    for _ in range(3):
        try:
            lend(account_id, shard, sum(e.amount for e in live), now, holds)
            return live
        except DueNow:
            settle_due(account_id, now)
        except InsufficientCredits as refused:
            live = _in_order(live, refused.details["available"], refused.details["hard_limit"], results)
            if not live:
                return []
    return live


def _actions(
    account_id: str, live: list[_Event], batch_sk: str, now: datetime, both_places: bool
) -> list[dict[str, Any]]:
    total = sum(e.amount for e in live)
    expr = Expr().when("{a_spendable} >= {amount}", a_spendable="spendable", amount=total)
    guard_due(not_hot(expr), now)
    if not both_places:
        keys_in_place(expr, now)
    expr.add("balance", -total).add("spendable", -total)
    count_consumption(expr, total, now)
    stamp_batch(expr, batch_sk, len(live))
    return [
        expr.update(account_key(account_id)),
        batch_put(account_id, batch_sk, [e.change for e in live], now),
        *(record_put(account_id, e.key, "debit", e.request, e.change, now) for e in live),
        *(record_elsewhere(account_id, e.key, hot=False) for e in live if both_places),
    ]


def _after_refusal(
    account_id: str,
    live: list[_Event],
    cancelled: Cancelled,
    replays: list[tuple[_Event, Change]],
    results: list[UsageResult | None],
    hot: bool = False,
) -> list[_Event]:
    """What is left to try after a cancelled attempt: keys already used leave (duplicates or conflicts);
    if the account refused, the events are taken in order against its figures and those that do not fit
    leave as refused (not for a hot account's shard: it borrows first, ``_lend_or_refuse``)."""
    remaining = []
    for position, event in enumerate(live):
        # its record here, or (checked in both places) in the other place
        used = [i for i in (2 + position, 2 + len(live) + position) if cancelled.failed(i)]
        if not used:
            remaining.append(event)
            continue
        old = cancelled.old(used[0]) or {}
        if old.get("request_hash") == event.hash and isinstance(old.get("change"), dict):
            replays.append((event, Change.from_map(old["change"])))
        else:
            results[event.index] = UsageResult("conflict", error=IdempotencyConflict(event.key))
    if hot or not cancelled.failed(0):
        return remaining
    account = parse_account(account_id, cancelled.old(0))
    return _in_order(remaining, account.available, account.hard_limit, results)


def _in_order(
    events: list[_Event], available: int, hard_limit: int, results: list[UsageResult | None]
) -> list[_Event]:
    """The events taken in request order against what the account has: those that fit, the others refused."""
    room, fitting = available - hard_limit, []
    for event in events:
        if event.amount <= room:
            room -= event.amount
            fitting.append(event)
        else:
            results[event.index] = UsageResult(
                "insufficient_credits", error=InsufficientCredits(room + hard_limit, event.amount, hard_limit)
            )
    return fitting


def _replayed(
    account_id: str, replays: list[tuple[_Event, Change]], results: list[UsageResult | None]
) -> None:
    """Duplicates answer with the entry their first write made and the account's figures now."""
    account: Account = parse_account(account_id, get_account_item(account_id))
    entries = wait_for_entries(account_id, [change for _, change in replays])
    for (event, _), entry in zip(replays, entries, strict=True):
        results[event.index] = UsageResult("duplicate", WriteResult.of(entry, account, replayed=True))


def _repeat(first: _Event, repeat: _Event, outcome: UsageResult | None) -> UsageResult:
    """The same key twice in one batch: a different body is a conflict; the same body shares the first's
    outcome (a duplicate of it when it was applied)."""
    if repeat.hash != first.hash:
        return UsageResult("conflict", error=IdempotencyConflict(repeat.key))
    assert outcome is not None, "the first event of a key is applied before its repeats"
    if outcome.status in ("accepted", "duplicate") and outcome.result is not None:
        r = outcome.result
        return UsageResult("duplicate", WriteResult(r.entry, r.balance, r.available, replayed=True))
    return outcome

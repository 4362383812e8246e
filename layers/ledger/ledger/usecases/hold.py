"""Holds: reserve credits (available = balance - held), then capture up to the hold or release it.

The hold item (``H#<hold_id>``) is also the idempotency record of the request that placed it: the hold id is
derived from the idempotency key. Each open hold also has a small item in expiry order
(``HX#<expiry>#<hold_id>``, store/holds.py), so that a settlement finds the holds that lapsed without a search;
the account keeps only the held total and its ``due`` guard at or before the earliest open hold's expiry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.amounts import MAX_HOLD_SECONDS, is_amount
from ledger.domain.changes import Change, Entry, digest, from_epoch, iso, request_hash, utcnow
from ledger.domain.errors import (
    Busy,
    CaptureExceedsHold,
    HoldExpired,
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
)
from ledger.domain.text import check_operation
from ledger.store import schema, table
from ledger.store.account_item import parse_account
from ledger.store.holds import hold_expiry_item
from ledger.store.results import entry_attr, read_account, resolve
from ledger.store.schema import account_key, hold_expiry_key
from ledger.store.writes import (
    Cancelled,
    Expr,
    count_consumption,
    delete,
    due_hints,
    guard_due,
    lower_due,
    put,
    stamp,
    transact,
)
from ledger.usecases.common import WriteResult, check_key, write_with_due
from ledger.usecases.hot import due_lowered, make_room

DEFAULT_HOLD_SECONDS = 15 * 60
HOLD_RECORD_DAYS = 30


@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: str
    account_id: str
    amount: int
    expires_at: datetime
    status: str  # open, captured, released, expired
    created_at: str
    operation: str | None = None
    captured: int | None = None
    released: int | None = None

    @classmethod
    def of(cls, item: dict[str, Any], now: datetime) -> Hold:
        status = item["status"]
        if status == "open" and item["expires_at"] <= int(now.timestamp()):
            status = "expired"
        return cls(
            hold_id=item["hold_id"],
            account_id=item["account_id"],
            amount=item["amount"],
            expires_at=from_epoch(item["expires_at"]),
            status=status,
            created_at=item["created_at"],
            operation=item.get("operation"),
            captured=item.get("captured"),
            released=item.get("released"),
        )


@dataclass(frozen=True, slots=True)
class CaptureResult:
    hold: Hold
    result: WriteResult


def _hold_key(account_id: str, hold_id: str) -> dict[str, str]:
    return {"pk": schema.account_pk(account_id), "sk": schema.hold_sk(hold_id)}


def place_hold(
    account_id: str,
    amount: int,
    idempotency_key: str,
    expires_in_seconds: int | None = None,
    operation: str | None = None,
    now: datetime | None = None,
) -> tuple[Hold, bool]:
    """Reserve ``amount``. Returns the hold and whether this call replayed an earlier one."""
    now = now or utcnow()
    key = check_key(idempotency_key)
    check_operation(operation)
    if not is_amount(amount):
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    seconds = DEFAULT_HOLD_SECONDS if expires_in_seconds is None else expires_in_seconds
    if not 1 <= seconds <= MAX_HOLD_SECONDS:
        raise InvalidRequest(f"expires_in_seconds must be from 1 to {MAX_HOLD_SECONDS}")
    hold_id = "hold_" + digest(account_id, "hold", key)
    expires = int((now + timedelta(seconds=seconds)).timestamp())
    request = {"amount": amount, "expires_in_seconds": expires_in_seconds, "operation": operation}
    item = {
        "pk": schema.account_pk(account_id),
        "sk": schema.hold_sk(hold_id),
        "hold_id": hold_id,
        "account_id": account_id,
        "amount": amount,
        "expires_at": expires,
        "status": "open",
        "created_at": iso(now),
        "idempotency_key": key,
        "request_hash": request_hash(request),
        "ttl": expires + HOLD_RECORD_DAYS * 86400,
    }
    if operation:
        item["operation"] = operation
    change = Change(
        id="ent_" + digest(account_id, "hold", key),
        type="hold",
        amount=0,
        held_delta=amount,
        created_at=iso(now),
        operation=operation,
        reference=key,
        record=schema.hold_sk(hold_id),
        extra={"hold_id": hold_id},
    )
    # the first hold after a quiet spell lowers ``due``; holds placed while it is open leave it as it is
    lower = due_hints.lower_first(account_id, expires)

    def attempt() -> tuple[Hold, bool] | None:
        expr = Expr().when("{a_spendable} >= {amount}", a_spendable="spendable", amount=amount)
        guard_due(expr, now)
        lower_due(expr, expires, lower)
        expr.add("held", amount).add("spendable", -amount).add("holds_placed", 1)
        stamp(expr, [change])
        in_order = put(hold_expiry_item(account_id, hold_id, amount, expires), only_if_new=False)
        transact([expr.update(account_key(account_id)), put(item), in_order])
        if lower:
            due_hints.saw(account_id, expires)
            due_lowered(account_id)
        return Hold.of(item, now), False

    def on_cancel(cancelled: Cancelled) -> tuple[Hold, bool] | None:
        """The first result of a retry, a refusal, or None: try the other form of the due condition."""
        nonlocal lower
        if cancelled.failed(1):
            old = cancelled.old(1) or {}
            if old.get("request_hash") != item["request_hash"]:
                raise IdempotencyConflict(key)
            return Hold.of(old, now), True
        old_account = cancelled.old(0)
        if make_room(account_id, old_account, amount):
            return None  # a hot account's shards gave back what they held
        account = parse_account(account_id, old_account)
        if account.spendable < amount:
            raise InsufficientCredits(account.available, amount, account.hard_limit)
        lower = due_hints.refused(account_id, old_account, expires)
        return None

    for _ in range(6):
        if (placed := write_with_due(account_id, now, attempt, on_cancel)) is not None:
            return placed
    raise Busy("the account's expiry guard kept changing; retry with the same idempotency key")


HOLD_ID = re.compile(r"^hold_[0-9a-f]{24}$")


def _hold_item(account_id: str, hold_id: str) -> dict[str, Any]:
    if not HOLD_ID.match(hold_id) or (item := table.get_item(account_id, schema.hold_sk(hold_id))) is None:
        raise NotFound(f"hold {hold_id[:40]} not found")
    return item


def get_hold(account_id: str, hold_id: str, now: datetime | None = None) -> Hold:
    return Hold.of(_hold_item(account_id, hold_id), now or utcnow())


def _not_open(hold: Hold) -> HoldNotOpen:
    if hold.status == "expired":
        return HoldExpired(f"hold {hold.hold_id} expired at {iso(hold.expires_at)}")
    return HoldNotOpen(f"hold {hold.hold_id} is {hold.status}")


def _resolution(account_id: str, hold: Hold, status: str, captured: int, at: str) -> Change:
    """The change that captures ``captured`` of the hold (0 for a release) and frees the rest."""
    return Change(
        id="ent_" + digest(account_id, status, hold.hold_id),
        type="capture" if status == "captured" else "release",
        amount=-captured,
        held_delta=-hold.amount,
        created_at=at,
        operation=hold.operation,
        reference=hold.hold_id,
        record=schema.hold_sk(hold.hold_id),
        extra={"hold_id": hold.hold_id},
    )


def _resolve_hold(
    account_id: str, hold_id: str, status: str, captured: int | None, now: datetime
) -> tuple[Hold, WriteResult]:
    """Capture ``captured`` credits (None: all, 0: a release) and free the rest of the hold, exactly once."""
    item = _hold_item(account_id, hold_id)
    hold = Hold.of(item, now)
    captured = hold.amount if captured is None else captured
    if hold.status != "open":
        if hold.status == status and hold.captured == captured:
            return hold, _replay(
                account_id, item, _resolution(account_id, hold, status, captured, item["resolved_at"])
            )
        raise _not_open(hold)
    if captured > hold.amount:
        raise CaptureExceedsHold(f"capture of {captured} exceeds the hold of {hold.amount}", held=hold.amount)
    released = hold.amount - captured
    change = _resolution(account_id, hold, status, captured, iso(now))

    def attempt() -> tuple[Hold, WriteResult]:
        account = Expr()  # the hold item's condition says it is still open
        if captured:
            account.when("{a_spendable} >= {need}", a_spendable="spendable", need=captured - hold.amount)
            guard_due(account, now)
            count_consumption(account, captured, now)
            account.add("balance", -captured)
        account.add("held", -hold.amount).add("spendable", released)
        stamp(account, [change])
        record = Expr().when("{a_status} = {open}", a_status="status", open="open")
        record.when("{a_expires} > {now}", a_expires="expires_at", now=int(now.timestamp()))
        record.set("status", status).set("captured", captured).set("released", released).set(
            "resolved_at", iso(now)
        )
        in_order = delete(hold_expiry_key(account_id, hold_id, item["expires_at"]))
        transact(
            [account.update(account_key(account_id)), record.update(_hold_key(account_id, hold_id)), in_order]
        )
        entry, after = resolve(account_id, change)
        resolved = replace(hold, status=status, captured=captured, released=released)
        return resolved, WriteResult.of(entry, after)

    def on_cancel(cancelled: Cancelled) -> tuple[Hold, WriteResult]:
        if cancelled.failed(1):  # resolved meanwhile, or expired
            return _resolve_hold(account_id, hold_id, status, captured, now)
        account = parse_account(account_id, cancelled.old(0))
        raise InsufficientCredits(account.available + hold.amount, captured, account.hard_limit)

    return write_with_due(account_id, now, attempt, on_cancel)


def _replay(account_id: str, item: dict[str, Any], change: Change) -> WriteResult:
    """The first result of a capture or release: the entry the journal recorded on the hold, or else the
    account's ``last`` (resolve), with the account's figures now."""
    recorded = item.get(entry_attr(change.type))
    if recorded:
        return WriteResult.of(Entry.from_map(recorded), read_account(account_id), replayed=True)
    return WriteResult.of(*resolve(account_id, change), replayed=True)


def capture_hold(
    account_id: str, hold_id: str, amount: int | None = None, now: datetime | None = None
) -> CaptureResult:
    """Capture ``amount`` (default: all of it) and release the rest. A retry of the same capture replays it."""
    now = now or utcnow()
    if amount is not None and not is_amount(amount):
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    hold, result = _resolve_hold(account_id, hold_id, "captured", amount, now)
    return CaptureResult(hold, result)


def release_hold(account_id: str, hold_id: str, now: datetime | None = None) -> CaptureResult:
    now = now or utcnow()
    hold, result = _resolve_hold(account_id, hold_id, "released", 0, now)
    return CaptureResult(hold, result)

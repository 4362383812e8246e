"""Grant: credits arrive (purchase, auto top-up, promotional, subscription, adjustment).

One transaction: the account's figures, the grant's own item (``G#<burn key>``), its idempotency record and,
for a grant that expires, its expiring-soon reminders (``reminders.py``). The account records the grant's base
(the consumption not yet allocated when it arrived) and arrival among its pending arrivals, which the next
settlement takes in; when MAX_PENDING are waiting, the grant settles the account first (``materialize``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain.amounts import is_amount
from ledger.domain.changes import ENTRY_TYPE_OF_SOURCE, Change, check_moment, digest, epoch, iso, utcnow
from ledger.domain.errors import Busy, InvalidRequest
from ledger.domain.grants import DEFAULT_PRIORITY, SOURCES, Grant
from ledger.domain.text import check_description
from ledger.store import schema
from ledger.store.account_item import MAX_PENDING, pending_arrival_attr, pending_base_attr
from ledger.store.grants import grant_item
from ledger.store.results import resolve
from ledger.store.schema import account_key
from ledger.store.writes import Cancelled, Expr, due_hints, lower_due, put, stamp, transact
from ledger.usecases.common import WriteResult, check_key, find_record, record_put, replayed_change
from ledger.usecases.expire import materialize
from ledger.usecases.hot import freeze, frozen_by, unfreeze
from ledger.usecases.reminders import reminder_puts

MAX_PRIORITY = 1000
MAX_DESCRIPTION = 200


def _summary(account_id: str, grant: Grant) -> dict[str, Any]:
    """What the idempotency record keeps of the grant, for a retry's answer."""
    kept = ("amount", "source", "priority", "created_at", "expires_at")
    return {k: v for k, v in grant_item(account_id, grant).items() if k in kept}


def grant_id(account_id: str, idempotency_key: str) -> str:
    return "grt_" + digest(account_id, "grant", idempotency_key)


@dataclass(frozen=True, slots=True)
class GrantResult:
    grant: Grant
    description: str | None
    result: WriteResult


def grant(
    account_id: str,
    amount: int,
    source: str,
    idempotency_key: str,
    expires_at: datetime | None = None,
    priority: int | None = None,
    description: str | None = None,
    reference: str | None = None,
    now: datetime | None = None,
    *,
    entry_type: str | None = None,
    also: Sequence[dict[str, Any]] = (),
    identity: dict[str, Any] | None = None,
) -> GrantResult:
    """Grant credits. For callers inside the ledger: ``also``, more transaction actions committed with the
    grant (and only with it; a failed condition on one of them raises Cancelled); ``entry_type`` instead of
    the source's; ``identity``, what a retry must repeat to be one (default: every argument)."""
    now = now or utcnow()
    key = check_key(idempotency_key)
    if not is_amount(amount):
        raise InvalidRequest("amount must be an integer from 1 to 1000000000000")
    if source not in SOURCES:
        raise InvalidRequest(f"source must be one of {', '.join(SOURCES)}")
    if expires_at is not None:
        check_moment("expires_at", expires_at)
    expiry_passed = expires_at is not None and expires_at <= now
    if priority is not None and not 0 <= priority <= MAX_PRIORITY:
        raise InvalidRequest(f"priority must be from 0 to {MAX_PRIORITY}")
    check_description(description, MAX_DESCRIPTION)
    expiry = epoch(expires_at) if expires_at is not None else None
    new = Grant(
        id=grant_id(account_id, key),
        amount=amount,
        remaining=amount,
        source=source,
        priority=DEFAULT_PRIORITY if priority is None else priority,
        created_at=int(now.timestamp() * 1000),
        expires_at=expiry,
    )
    request: dict[str, Any] = identity or {
        "amount": amount,
        "source": source,
        "expires_at": expiry,
        "priority": priority,
        "description": description,
        "reference": reference,
    }
    change = Change(
        id="ent_" + digest(account_id, "grant", key),
        type=entry_type or ENTRY_TYPE_OF_SOURCE[source],
        amount=amount,
        created_at=iso(now),
        reference=reference or key,
        description=description,
        record=schema.idempotency_sk(key),
        extra={"grant_id": new.id},
    )

    token: str | None = None  # a hot account is frozen while a grant arrives (usecases/hot.py)

    def attempt(lower: bool) -> None:
        expr = Expr().when("attribute_not_exists({a_p}) OR {a_p} < {max}", a_p="pending", max=MAX_PENDING)
        frozen_by(expr, token)
        expr.add("balance", amount).add("spendable", amount).add("lifetime_added", amount)
        # the grant's base: consumption so far belongs to the grants that were there before it
        # (a hot account's consumption not posted yet is in ``allotted`` while it is frozen: usecases/hot.py)
        expr.copy_sum(pending_base_attr(new.id), "unsettled", "allotted").copy(
            pending_arrival_attr(new.id), "seq"
        )
        expr.add("pending", 1).add("arrived", 1).add("grant_items", 1).add_to_set("prios", {new.priority})
        if expiry is not None:
            lower_due(expr, expiry, lower)
        stamp(expr, [change])
        record = record_put(
            account_id, key, "grant", request, change, now, result={"grant": _summary(account_id, new)}
        )
        reminders = reminder_puts(account_id, new, now)
        grant_put = put(grant_item(account_id, new), only_if_new=False)
        transact([expr.update(account_key(account_id)), record, *also, *reminders, grant_put])

    def replay(old: dict[str, Any]) -> GrantResult:
        first = replayed_change(old, key, "grant", request)
        original = replace(new, **{k: v for k, v in old["result"]["grant"].items() if k != "remaining"})
        return GrantResult(original, description, WriteResult.of(*resolve(account_id, first), replayed=True))

    if expiry_passed:  # refused, unless it is a retry of a grant made before that moment
        if (old := find_record(account_id, key)) is None:
            raise InvalidRequest("expires_at must be in the future")
        return replay(old)
    lower = expiry is not None and due_hints.lower_first(account_id, expiry)
    try:
        for _ in range(6):
            try:
                attempt(lower)
                token = None  # lifted by the grant's own write
                if lower:
                    due_hints.saw(account_id, expiry)
                return GrantResult(new, description, WriteResult.of(*resolve(account_id, change)))
            except Cancelled as cancelled:
                if cancelled.failed(1):
                    return replay(cancelled.old(1) or {})
                if any(cancelled.failed(i) for i in range(2, len(cancelled.reasons))):
                    raise
                old = cancelled.old(0) or {}
                if old.get("pending", 0) >= MAX_PENDING:
                    if token is not None:
                        unfreeze(account_id, token)
                        token = None
                    materialize(account_id, now)  # take in the waiting arrivals, then arrive
                    continue
                if old.get("shards") and (token is None or old.get("frozen") != token):
                    token = freeze(account_id, now)
                    continue
                lower = due_hints.refused(account_id, old, expiry or 0)
        raise Busy("the account's expiry guard kept changing; retry with the same idempotency key")
    finally:
        if token is not None:
            unfreeze(account_id, token)

"""Grant: credits arrive (purchase, auto top-up, promotional, subscription, adjustment).

A grant that expires is written with its expiring-soon reminders (``reminders.py``) in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain.amounts import is_amount
from ledger.domain.changes import ENTRY_TYPE_OF_SOURCE, Change, digest, epoch, iso, utcnow
from ledger.domain.errors import Busy, InvalidRequest
from ledger.domain.grants import DEFAULT_PRIORITY, SOURCES, Grant
from ledger.domain.text import check_description
from ledger.store import table
from ledger.store.account_item import grant_arrival_attr, grant_attr, grant_base_attr, grant_map
from ledger.store.results import resolve
from ledger.store.writes import Cancelled, Expr, account_key, due_hints, lower_due, stamp, transact
from ledger.usecases.common import WriteResult, check_key, find_record, record_put, replayed_change
from ledger.usecases.reminders import reminder_puts

MAX_PRIORITY = 1000
MAX_DESCRIPTION = 200


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
        record=table.idempotency_sk(key),
        extra={"grant_id": new.id},
    )

    def attempt(lower: bool) -> None:
        expr = Expr()
        expr.add("balance", amount).add("spendable", amount).add("lifetime_added", amount)
        expr.set(grant_attr(new.id), grant_map(new))
        # the grant's base: consumption so far belongs to the grants that were there before it
        base, arrival = expr.name(grant_base_attr(new.id)), expr.name(grant_arrival_attr(new.id))
        expr.sets.append(f"{base} = if_not_exists({expr.name('unsettled')}, {expr.value(0)})")
        expr.sets.append(f"{arrival} = if_not_exists({expr.name('seq')}, {expr.value(0)})")
        if expiry is not None:
            lower_due(expr, expiry, lower)
        stamp(expr, [change])
        record = record_put(account_id, key, "grant", request, change, now, result={"grant": grant_map(new)})
        transact([expr.update(account_key(account_id)), record, *also, *reminder_puts(account_id, new, now)])

    def replay(old: dict[str, Any]) -> GrantResult:
        first = replayed_change(old, key, "grant", request)
        original = replace(new, **{k: v for k, v in old["result"]["grant"].items() if k != "remaining"})
        return GrantResult(original, description, WriteResult.of(*resolve(account_id, first), replayed=True))

    if expiry_passed:  # refused, unless it is a retry of a grant made before that moment
        if (old := find_record(account_id, key)) is None:
            raise InvalidRequest("expires_at must be in the future")
        return replay(old)
    lower = expiry is not None and due_hints.lower_first(account_id, expiry)
    for _ in range(6):
        try:
            attempt(lower)
            if lower:
                due_hints.saw(account_id, expiry)
            return GrantResult(new, description, WriteResult.of(*resolve(account_id, change)))
        except Cancelled as cancelled:
            if cancelled.failed(1):
                return replay(cancelled.old(1) or {})
            if any(cancelled.failed(i) for i in range(2, len(cancelled.reasons))):
                raise
            lower = due_hints.refused(account_id, cancelled.old(0), expiry or 0)
    raise Busy("the account's expiry guard kept changing; retry with the same idempotency key")

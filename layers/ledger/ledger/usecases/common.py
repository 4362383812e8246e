"""What the write use cases share: results, idempotency records, the due-guard retry."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import Change, Entry, request_hash
from ledger.domain.errors import Busy, IdempotencyConflict, InvalidRequest
from ledger.store import schema, table
from ledger.store.writes import Cancelled, absent, put
from ledger.usecases.expire import settle_due

IDEMPOTENCY_TTL = table.IDEMPOTENCY_TTL
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:/=+\-]{1,128}$")
DUE_SETTLEMENTS = 3


@dataclass(frozen=True, slots=True)
class WriteResult:
    entry: Entry
    balance: int
    available: int
    replayed: bool = False

    @classmethod
    def of(cls, entry: Entry, account: Account, replayed: bool = False) -> WriteResult:
        return cls(entry=entry, balance=account.balance, available=account.available, replayed=replayed)


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise InvalidRequest("idempotency_key must be 1-128 characters of A-Z a-z 0-9 . _ : / = + -")
    return key


def record_put(
    account_id: str,
    key: str,
    operation: str,
    request: dict[str, Any],
    change: Change,
    now: datetime,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The idempotency record, written in the same transaction as the change it guards, where the change's
    ``record`` says (in the account's partition, or on a key of its own for a hot account's usage)."""
    item = {
        **schema.record_key(account_id, change.record or schema.idempotency_sk(key)),
        "operation": operation,
        "request_hash": request_hash({"operation": operation, **request}),
        "change": change.to_map(),
        "ttl": int((now + IDEMPOTENCY_TTL).timestamp()),
    }
    if result is not None:
        item["result"] = result
    return put(item)


def record_elsewhere(account_id: str, key: str, hot: bool) -> dict[str, Any]:
    """The check that a usage key was not used in the other place its record may be (in the week after an
    account was made hot or not): on a key of its own when ``hot`` is False, in the account's partition when
    True."""
    other = schema.idempotency_sk(key) if hot else schema.own_record(key)
    return absent(schema.record_key(account_id, other))


def find_record(account_id: str, key: str) -> dict[str, Any] | None:
    """The idempotency record of ``key``, if a write under it committed."""
    return table.get_item(account_id, schema.idempotency_sk(key))


def replayed_change(old: dict[str, Any] | None, key: str, operation: str, request: dict[str, Any]) -> Change:
    """The change a retried request made the first time; a different request under the key is a conflict."""
    if old is None or old.get("request_hash") != request_hash({"operation": operation, **request}):
        raise IdempotencyConflict(key)
    return Change.from_map(old["change"])


def due_tripped(old_account: dict[str, Any] | None, now: datetime) -> bool:
    due = (old_account or {}).get("due")
    return due is not None and due <= int(now.timestamp())


def write_with_due[T](
    account_id: str, now: datetime, attempt: Callable[[], T], on_cancel: Callable[[Cancelled], T]
) -> T:
    """Run ``attempt``; when the account's due guard refused it, settle what is due and try again."""
    for _ in range(DUE_SETTLEMENTS):
        try:
            return attempt()
        except Cancelled as cancelled:
            if cancelled.failed(0) and due_tripped(cancelled.old(0), now):
                settle_due(account_id, now)
                continue
            return on_cancel(cancelled)
    raise Busy("the account kept falling due while this write was retried; retry with the same key")

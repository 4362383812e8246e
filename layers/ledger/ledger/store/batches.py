"""Batch items: the changes of a batch of usage events, written with the account update that applies them.

A write of one account that applies n usage events of a batch advances ``seq`` by n, as any write does, but
leaves in ``last`` a reference to its batch item (``{"batch": <sk>, "count": n}``) instead of the n changes:
the account item keeps its size whatever the batch's (a hundred changes would make it ~25 KB, and every write
after it would pay for them). The batch item is written in the same transaction, so whoever sees the
account write (the journal, from the stream; the writer, reading back its result) finds the changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledger.domain.changes import Change
from ledger.store import schema, table
from ledger.store.writes import put

BATCH_TTL = timedelta(days=8)  # the stream keeps records 24 h; the journal reads a batch well before


def batch_put(
    account_id: str, batch_sk: str, changes: list[Change], now: datetime, pk: str | None = None
) -> dict[str, Any]:
    """``pk``: a partition key of its own (a hot account's batches: store/shards.py), else the account's."""
    return put(
        {
            "pk": pk or schema.account_pk(account_id),
            "sk": batch_sk,
            "changes": [c.to_map() for c in changes],
            "ttl": int((now + BATCH_TTL).timestamp()),
        }
    )


def holds_no_changes(last: list[dict[str, Any]]) -> bool:
    """Whether ``last`` names where the write's changes are kept (a batch item, a hot account's posting)
    instead of holding them: both are usage, consumption only."""
    return len(last) == 1 and ("batch" in last[0] or "posted" in last[0])


def batch_ref(last: list[dict[str, Any]]) -> str | None:
    """The batch item's key when ``last`` names one."""
    if len(last) == 1 and isinstance(last[0].get("batch"), str):
        return str(last[0]["batch"])
    return None


def changes_of(account_id: str, item: dict[str, Any]) -> list[Change]:
    """The changes the write that left this account (or shard) image made, in order."""
    last = item.get("last") or []
    if len(last) == 1 and "posted" in last[0]:  # a hot account's posting (store/shards.py)
        ref = last[0]
        key = schema.posting_key(account_id, int(ref["posted"]), int(ref["from"]), int(ref["to"]))
        return _stored_changes(key)
    batch = batch_ref(last)
    if batch is None:
        return [Change.from_map(c) for c in last]
    return _stored_changes({"pk": last[0].get("pk") or schema.account_pk(account_id), "sk": batch})


def _stored_changes(key: dict[str, str]) -> list[Change]:
    stored = table.read_item(key)
    if stored is None:
        raise LookupError(f"the changes kept at {key['pk']} / {key['sk']} are missing")
    return [Change.from_map(c) for c in stored["changes"]]

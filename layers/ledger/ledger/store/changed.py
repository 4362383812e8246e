"""Which accounts changed on which day, so that reconciliation reads those and not the table.

The journal, which sees every account write, puts one marker per account and day: ``pk = CHANGED#<day>#<shard>``
(the shard spreads a busy day's markers over ``SHARDS`` partitions), ``sk`` the account id, TTL a month. A
warm journal remembers what it marked and writes each marker once per container and day. A reconciliation
run Queries the day's shards: its cost grows with the accounts that changed, never with the table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from ledger.domain.changes import digest
from ledger.store import table
from ledger.store.schema import changed_pk

SHARDS = 32
TTL = timedelta(days=35)
# markers a warm container remembers before it forgets them all (0: none, every write marks)
REMEMBERED = int(os.environ.get("CHANGED_MARKS_REMEMBERED", "10000"))

_marked: set[tuple[str, str]] = set()


def _shard(account_id: str) -> int:
    return int(digest(account_id, size=8), 16) % SHARDS


def marker_pk(day: str, account_id: str) -> str:
    """The partition of ``account_id``'s marker for ``day`` (YYYY-MM-DD)."""
    return changed_pk(day, _shard(account_id))


def mark_changed(account_id: str, now: datetime) -> None:
    day = now.date().isoformat()
    if (account_id, day) in _marked:
        return
    table.client().put_item(
        TableName=table.table_name(),
        Item=table.to_item(
            {"pk": marker_pk(day, account_id), "sk": account_id, "ttl": int((now + TTL).timestamp())}
        ),
    )
    if len(_marked) >= REMEMBERED:
        _marked.clear()
    if REMEMBERED:
        _marked.add((account_id, day))


def changed_on(day: date) -> Iterator[str]:
    """The accounts marked changed on ``day`` (each once)."""
    for shard in range(SHARDS):
        kwargs = {
            "TableName": table.table_name(),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": table.to_item({":pk": changed_pk(day.isoformat(), shard)}),
        }
        while True:
            page = table.client().query(**kwargs)  # type: ignore[arg-type]
            for raw in page.get("Items", []):
                yield str((table.from_item(raw) or {})["sk"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def forget_marks() -> None:
    """Tests: start from a cold container."""
    _marked.clear()

"""What one account sustains, from the writes its operations make on each partition key and each item.

For each case, an account is funded and (for a hot account) given spend shards outside the capture, as if a
week ago (for a week after an account is made hot or not, its usage writes also check that each key was not
used in the other place its records were kept: one more item each); then the
real functions run a series of operations on it (single debits, or batches of 100 usage events), every
DynamoDB request captured with its keys and the size of what it wrote; then the journal runs over the table's
stream as its trigger delivers it (batches of up to 100 records: a busy shard's writes are posted in groups),
again and again until nothing is left (a posting is an account write, which the journal then numbers).

From the capture: the write units landing on each partition key and on each item, per event, for the hottest
key and the hottest item; and the journal's index write units (its ``by_type`` entries, whose index partition
is the account and the entry's type). DynamoDB gives each partition and each item 1,000 WCU/s, so the rate one
account sustains is 1,000 divided by the largest of the three. A hot account's shards are chosen at random,
so its hottest shard takes a bit more than its share: measured, not assumed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from bench.capture import Call
from bench.operations import debit_event
from bench.stage import Stage, invoke_as_deployed, stage
from ledger.store import table as ledger_table
from tests.support.http import http_event

PARTITION_WCU_PER_SECOND = 1_000  # per partition and per item (and per index partition)
BATCH = 100


@dataclass
class HotRow:
    case: str
    shards: int  # 0: not hot
    events: int
    round_trips: float  # the function's DynamoDB requests per event
    write_units: float  # everything written per event, the journal's included (index writes too)
    hottest_key: str  # the partition key taking most write units, and its units per event
    key_wcu: float
    hottest_item: str
    item_wcu: float
    index_wcu: float  # the journal's index writes per event (its by_type partition)
    account_key_wcu: float  # on the account's own partition (``ACCOUNT#<id>``), per event

    @property
    def sustained(self) -> int:
        worst = max(self.key_wcu, self.item_wcu, self.index_wcu)
        return int(PARTITION_WCU_PER_SECOND / worst) if worst else 0


def _event(account: str, n: int, batch: bool) -> dict[str, Any]:
    if not batch:
        return debit_event(account, amount=1 + n % 7, key=f"job-{n}")
    events = [
        {"account_id": account, "amount": 1 + i % 9, "operation": "tokens", "idempotency_key": f"req-{n}-{i}"}
        for i in range(BATCH)
    ]
    return http_event("POST", "/usage/batch", {}, {"events": events}, iam=True)


def _journal(s: Stage) -> list[Call]:
    calls: list[Call] = []
    for _ in range(100):
        new = s.stream.read()
        if not any(new.values()):
            return calls
        s.capture.phase = "journal"
        s.stream.deliver("journal", new)
        calls += s.capture.take()
    raise RuntimeError("the journal did not catch up")


def _short(pk: str, account: str) -> str:
    return pk.replace(ledger_table.account_pk(account), "ACCOUNT#<id>")


def _case(s: Stage, name: str, account: str, shards: int, operations: int, batch: bool) -> HotRow:
    ledger.grant(account, 10**9, "purchase", "funds")
    if shards:  # made hot more than a week ago: its writes no longer check a second place for their keys
        ledger.set_spend_shards(account, shards, now=datetime.now(UTC) - timedelta(days=9))
    s.settle()
    with s.capture.active():
        s.capture.phase = "operation"
        for n in range(operations):
            response = invoke_as_deployed("usage_batch" if batch else "debit", _event(account, n, batch))
            if int(response.get("statusCode", 200)) != 200 and not (
                not batch and response["statusCode"] == 201
            ):
                raise RuntimeError(f"{name}: {response}")
        own = s.capture.take()
        journal = _journal(s)
    events = operations * (BATCH if batch else 1)
    writes = [w for c in own + journal for w in c.writes]
    by_key: Counter[str] = Counter()
    by_item: Counter[tuple[str, str]] = Counter()
    for w in writes:
        by_key[w.key[0]] += w.units
        by_item[w.key] += w.units
    ((key, key_units),) = by_key.most_common(1)
    ((item, item_units),) = by_item.most_common(1)
    account_pk = ledger_table.account_pk(account)
    return HotRow(
        case=name,
        shards=shards,
        events=events,
        round_trips=sum(1 for c in own if c.service == "dynamodb") / events,
        write_units=sum(w.units + w.index_units for w in writes) / events,
        hottest_key=_short(key, account),
        key_wcu=key_units / events,
        hottest_item=f"{_short(item[0], account)} / {item[1][:2]}",
        item_wcu=item_units / events,
        index_wcu=sum(w.index_units for c in journal for w in c.writes) / events,
        account_key_wcu=by_key[account_pk] / events,
    )


def measure(debits: int, batches: int, shards: int) -> list[HotRow]:
    """Single debits and batches of 100 on an account that is not hot and on one with ``shards`` shards."""
    rows = []
    with stage() as s:
        for n, (name, hot, count, batch) in enumerate(
            [
                ("single debits, not hot", 0, debits, False),
                (f"single debits, hot ({shards} shards)", shards, debits, False),
                ("batches of 100, not hot", 0, batches, True),
                (f"batches of 100, hot ({shards} shards)", shards, batches, True),
            ]
        ):
            rows.append(_case(s, name, f"hot-{n}", hot, count, batch))
    return rows

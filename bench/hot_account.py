"""What one account sustains, from the writes its operations make on each partition key and each item.

For each case, an account is funded and (for a hot account) given spend shards outside the capture, as if a
week ago (for a week after an account is made hot or not, its usage writes also check that each key was not
used in the other place its records were kept: one more item each), and warmed up (every shard has borrowed
once; with a balance large against the debits a shard then borrows rarely). Then the real functions run a
series of operations on it (single debits, or batches of 100 usage events), every DynamoDB request captured
with its keys and the size of what it wrote; then the journal runs over the table's stream as its trigger
delivers it (batches of up to 100 records of one stream shard, each hot partition key on a stream shard of
its own, as on a table split for heat: a busy shard's writes are posted in groups), again and again until
nothing is left (a posting is an account write, which the journal then numbers).

From the capture, per event: the write units on the keys the account keeps writing (its own partition and
its shards' keys) and on their items, and on each index partition the account keeps writing (``by_type`` of
the account and a type). DynamoDB gives each partition and each item 1,000 WCU/s, so the rate one account
sustains is 1,000 divided by the largest of those. Every other key is written a bounded number of times in
its life (an idempotency record, a batch item, a posting, a block of entries and its index partition): it
limits no rate as long as its whole life's writes fit in one second's allowance, which the table checks. A
hot account's shards are chosen at random, so its hottest shard takes a bit more than its share: measured,
not assumed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from bench.capture import Call
from bench.operations import debit_event
from bench.stage import Stage, invoke_as_deployed, stage
from devkit.http import http_event
from ledger.journal import MAX_POSTED_CHANGES
from ledger.store import entries as entry_store
from ledger.store import table as ledger_table
from ledger.store.schema import SHARD_SK

PARTITION_WCU_PER_SECOND = 1_000  # per partition and per item (and per index partition)
TRIGGER_BATCH = 100  # the journal trigger's BatchSize (template.yaml)
# a shard's share of random choices, plus two standard deviations at 2,500 debits/s over 8 shards (312 a
# second each, give or take 18): the hottest shard at the target rates
SHARE_MARGIN = 1.1
BATCH = 100


@dataclass
class HotRow:
    case: str
    shards: int  # 0: not hot
    events: int
    round_trips: float  # the function's DynamoDB requests per event
    # the journal's DynamoDB requests per event while taking the account item's records, one after another
    # (the entries of a posting, the numbered entries beside its records, the rollup; a non-hot account's
    # record updates): the journal's own limit on one account, as the partitions' are DynamoDB's
    journal_sequential: float
    write_units: float  # everything written per event, the journal's included (index writes too)
    hottest_key: str  # the partition key taking most write units, and its units per event
    key_wcu: float
    hottest_item: str
    item_wcu: float
    hottest_index: str  # the index partition taking most write units, and its units per event
    index_wcu: float
    account_key_wcu: float  # on the account's own partition (``ACCOUNT#<id>``), per event
    # the most WCU any key written a bounded number of times takes in its whole life (a record, a batch item,
    # a posting; an entry block: per entry x BLOCK): such a key limits no rate while that fits in one second
    own_key_life_wcu: float

    # a hot account at the target rates: its account partition per event when every trigger batch is full
    steady_account_wcu: float = 0.0
    shard_wcu: float = 0.0  # a shard key's share of the shards' write units per event, with SHARE_MARGIN

    @property
    def sustained_full_batches(self) -> int:
        """A hot account's rate once its stream shards fill every trigger batch (more than TRIGGER_BATCH shard
        writes a second per shard: at the targets, thousands): postings of full groups, the rest as measured."""
        if not self.shards or self.own_key_life_wcu > PARTITION_WCU_PER_SECOND:
            return self.sustained
        worst = max(self.steady_account_wcu, self.shard_wcu, self.index_wcu)
        return int(PARTITION_WCU_PER_SECOND / worst) if worst else 0

    @property
    def sustained(self) -> int:
        """Events/s before a key the account keeps writing (its own partition, its shards), one of their items
        or an index partition needs more than DynamoDB gives it."""
        if self.own_key_life_wcu > PARTITION_WCU_PER_SECOND:
            return 0
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


def _by_key(new: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The records as a table split for heat streams them: each hot partition key on a partition, so on a
    stream shard, of its own (the premise of spreading writes over keys at all)."""
    split: dict[str, list[dict[str, Any]]] = {}
    for shard_id, records in new.items():
        for record in records:
            split.setdefault(f"{shard_id}/{record['dynamodb']['Keys']['pk']['S']}", []).append(record)
    return split


def _journal(s: Stage, account_pk: str) -> tuple[list[Call], int]:
    """Every call the journal makes until it has caught up, and how many of them it made while taking the
    account item's own records (one stream shard, taken in order: the journal's sequential path)."""
    calls: list[Call] = []
    sequential = 0
    for _ in range(100):
        new = s.stream.read()
        if not any(new.values()):
            return calls, sequential
        s.capture.phase = "journal"
        for shard_id, records in _by_key(new).items():
            s.stream.deliver("journal", {shard_id: records})
            taken = s.capture.take()
            if shard_id.endswith("/" + account_pk):
                sequential += sum(1 for c in taken if c.service == "dynamodb")
            calls += taken
    raise RuntimeError("the journal did not catch up")


def _run(name: str, account: str, operations: range, batch: bool) -> None:
    for n in operations:
        response = invoke_as_deployed("usage_batch" if batch else "debit", _event(account, n, batch))
        if int(response.get("statusCode", 200)) != 200 and not (not batch and response["statusCode"] == 201):
            raise RuntimeError(f"{name}: {response}")


def _short(pk: str, account: str) -> str:
    return pk.replace(ledger_table.account_pk(account), "ACCOUNT#<id>")


def _case(s: Stage, name: str, account: str, shards: int, operations: int, batch: bool) -> HotRow:
    ledger.grant(account, 10**9, "purchase", "funds")
    if shards:  # made hot more than a week ago: its writes no longer check a second place for their keys
        ledger.set_spend_shards(account, shards, now=datetime.now(UTC) - timedelta(days=9))
    # warmed up: every shard has borrowed once (a shard borrows a share of what the account item has, so
    # with a balance large against the debits it borrows rarely after that)
    warm = 2 * shards if not batch else (1 if shards else 0)
    _run(name, account, range(operations, operations + warm), batch)
    s.settle()
    with s.capture.active():
        s.capture.phase = "operation"
        _run(name, account, range(operations), batch)
        own = s.capture.take()
        journal, sequential = _journal(s, ledger_table.account_pk(account))
    events = operations * (BATCH if batch else 1)
    writes = [w for c in own + journal for w in c.writes]
    by_key: Counter[str] = Counter()
    by_item: Counter[tuple[str, str]] = Counter()
    by_index: Counter[str] = Counter()
    for w in writes:
        by_key[w.key[0]] += w.units
        by_item[w.key] += w.units
        by_index.update(w.index_partitions)
    account_pk = ledger_table.account_pk(account)
    kept = re.compile(re.escape(account_pk) + r"(#S\d+)?")  # the keys the account keeps writing
    block = re.compile(re.escape(account_pk) + r"#E\d+")
    entries_in: Counter[str] = Counter(w.key[0] for w in writes if block.fullmatch(w.key[0]))
    own_life = 0.0  # the most any other key takes in its life (a block: per entry x BLOCK)
    for place, units in [*by_key.items(), *by_index.items()]:
        found = block.search(place)
        if found and entries_in[found.group()]:
            own_life = max(own_life, units / entries_in[found.group()] * entry_store.BLOCK)
        elif place in by_key and not kept.fullmatch(place):
            own_life = max(own_life, units)
    ((key, key_units),) = [k for k in by_key.most_common() if kept.fullmatch(k[0])][:1]
    ((item, item_units),) = [k for k in by_item.most_common() if kept.fullmatch(k[0][0])][:1]
    ((index, index_units),) = [k for k in by_index.most_common() if not block.search(k[0])][:1] or [("", 0)]
    steady, shard_wcu = by_key[account_pk] / events, 0.0
    if (
        shards
    ):  # postings of full groups: TRIGGER_BATCH shard writes' changes each (at most MAX_POSTED_CHANGES)
        shard_key = re.compile(re.escape(account_pk) + r"#S\d+")
        # at the target rates each shard takes hundreds of writes a second at random: its share, and a margin
        shard_wcu = (
            sum(u for k, u in by_key.items() if shard_key.fullmatch(k)) / events / shards * SHARE_MARGIN
        )
        usage_writes = sum(1 for c in own if c.committed and any(w.key[1] == SHARD_SK for w in c.writes))
        postings = sum(1 for c in journal for w in c.writes if w.key == (account_pk, ledger_table.ACCOUNT_SK))
        if postings and usage_writes:
            direct = sum(w.units for c in own for w in c.writes if w.key[0] == account_pk)
            posting_units = sum(w.units for c in journal for w in c.writes if w.key[0] == account_pk)
            per_posting = min(TRIGGER_BATCH * events / usage_writes, MAX_POSTED_CHANGES)
            steady = direct / events + posting_units / postings / per_posting
    return HotRow(
        case=name,
        shards=shards,
        events=events,
        round_trips=sum(1 for c in own if c.service == "dynamodb") / events,
        journal_sequential=sequential / events,
        write_units=sum(w.units + w.index_units for w in writes) / events,
        hottest_key=_short(key, account),
        key_wcu=key_units / events,
        hottest_item=f"{_short(item[0], account)} / {item[1][:2]}",
        item_wcu=item_units / events,
        hottest_index=_short(index, account),
        index_wcu=index_units / events,
        account_key_wcu=by_key[account_pk] / events,
        own_key_life_wcu=own_life,
        steady_account_wcu=steady,
        shard_wcu=shard_wcu,
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

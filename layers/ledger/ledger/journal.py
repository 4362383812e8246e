"""The journal: every change to an account item becomes history, numbered and with its running balance.

The table's stream carries each account write with its old and new image. A write that advanced ``seq`` by n
left its n changes in ``last`` (or in the batch item ``last`` names: store/batches.py); walking them from the old balance gives each entry's exact balance_after.
For each write the journal puts the entries (store/entries.py says where; deterministic, so a redelivery rewrites the same items), adds
consumption to the day's usage rollup (guarded by the account's seq, so a redelivery adds nothing), and
records each entry on the write's record item (or beside it, for a record on a key of its own) so a retried
request can return it. Entries and those beside records go 25 per BatchWriteItem, side by side when many.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ledger.domain.changes import Change, Entry, digest, parse_iso, utcnow
from ledger.store import entries, schema, table
from ledger.store.batches import changes_of
from ledger.store.results import entry_attr
from ledger.store.schema import SHARD_SK, shard_of
from ledger.store.shards import post

CONSUMPTION_TYPES = ("consumption", "capture")
UNSPECIFIED_OPERATION = "unspecified"


def entries_of(
    old: dict[str, Any] | None, new: dict[str, Any], changes: list[Change]
) -> list[tuple[Change, Entry]]:
    """The entries one account write made, from its stream images and its changes (store/batches.py)."""
    old = old or {}
    count = new.get("seq", 0) - old.get("seq", 0)
    if count <= 0:
        return []
    if len(changes) != count:
        raise ValueError(f"account write advanced seq by {count} but left {len(changes)} changes")
    seq, balance, held = old.get("seq", 0), old.get("balance", 0), old.get("held", 0)
    out = []
    for change in changes:
        seq, balance, held = seq + 1, balance + change.amount, held + change.held_delta
        out.append((change, Entry.of(change, seq, balance, held)))
    if (balance, held) != (new.get("balance", 0), new.get("held", 0)):
        raise ValueError(f"changes do not add up to the account's balance at seq {seq}")
    return out


def record(account_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[Entry]:
    """Write the history of one account write. Safe to repeat."""
    advanced = new.get("seq", 0) > (old or {}).get("seq", 0)
    made = entries_of(old, new, changes_of(account_id, new) if advanced else [])
    puts = entries.items(entries.layout_of(account_id, new), [entry for _, entry in made])
    for change, entry in made:
        if not change.record:
            continue
        if (beside := schema.numbered_key(account_id, change.record)) is not None:
            # a record on a key of its own (a hot account's usage): the entry is put beside it, in the batch
            puts.append({**beside, "entry": entry.to_map(), "ttl": _record_ttl(change)})
            continue
        try:
            table.client().update_item(
                TableName=table.table_name(),
                Key=table.to_item(schema.record_key(account_id, change.record)),
                UpdateExpression="SET #e = :e",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#e": entry_attr(change.type)},
                ExpressionAttributeValues=table.to_item({":e": entry.to_map()}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
    table.put_all(puts)
    _roll_up(account_id, made)
    return [entry for _, entry in made]


def _record_ttl(change: Change) -> int:
    return int((parse_iso(change.created_at) + table.IDEMPOTENCY_TTL).timestamp())


def _roll_up(account_id: str, made: list[tuple[Change, Entry]]) -> None:
    by_day: dict[str, dict[str, int]] = {}
    last_seq: dict[str, int] = {}
    for change, entry in made:
        if change.type not in CONSUMPTION_TYPES or not change.amount:
            continue
        day = change.created_at[:10]
        ops = by_day.setdefault(day, {})
        op = change.operation or UNSPECIFIED_OPERATION
        ops[op] = ops.get(op, 0) - change.amount
        last_seq[day] = entry.seq or 0
    for day, ops in by_day.items():
        names = {"#total": "total", "#seq": "last_seq"}
        values: dict[str, Any] = {":zero": 0, ":total": sum(ops.values()), ":seq": last_seq[day]}
        sets = ["#total = if_not_exists(#total, :zero) + :total", "#seq = :seq"]
        for i, (op, credits) in enumerate(sorted(ops.items())):
            names[f"#o{i}"], values[f":o{i}"] = table.OPERATION_PREFIX + op, credits
            sets.append(f"#o{i} = if_not_exists(#o{i}, :zero) + :o{i}")
        try:
            table.client().update_item(
                TableName=table.table_name(),
                Key=table.to_item({"pk": schema.account_pk(account_id), "sk": schema.usage_sk(day)}),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_not_exists(#seq) OR #seq < :seq",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=table.to_item(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # a failed condition means this write was already counted


UNRECORDED = "unrecorded"


def record_unwritable(
    account_id: str, old: dict[str, Any] | None, new: dict[str, Any], parked_id: str, created_at: str
) -> Entry | None:
    """The history's word for a write whose entries could not be written: one ``unrecorded`` entry at the
    write's last seq, with the write's net amount and the running balance after it, naming what was parked.

    Never replaces an entry already there (a partly written history keeps what it has); safe to repeat.
    Returns None when the images do not even say which seqs the write took."""
    old = old or {}
    first, last = old.get("seq", 0), new.get("seq")
    balance, held = new.get("balance"), new.get("held", 0)
    if not all(type(v) is int for v in (first, last, balance, held, old.get("balance", 0))):
        return None
    assert isinstance(last, int) and isinstance(balance, int)
    if last <= first:
        return None
    seqs = f"{first + 1}" if last == first + 1 else f"{first + 1} to {last}"
    entry = Entry(
        id="ent_" + digest(account_id, UNRECORDED, str(last)),
        type=UNRECORDED,
        amount=balance - old.get("balance", 0),
        balance_after=balance,
        held_after=held,
        seq=last,
        created_at=created_at,
        description=f"the history of change {seqs} could not be written; kept for an operator as {parked_id}",
    )
    entries.write_if_absent(entries.layout_of(account_id, new), entry)
    return entry


MAX_POSTED_CHANGES = 1_000  # one posting: the journal then numbers them from one account write


class Postings:
    """A hot account's shard writes (store/shards.py), posted onto its account item in groups.

    ``gather`` looks at a whole stream batch first: the shard writes of one shard item form groups (in order,
    of up to MAX_POSTED_CHANGES changes), and the first record of a group posts all of it, so a busy shard
    costs its account item one write per group rather than per debit. The group's later records find
    themselves posted; a redelivered batch posts nothing twice (a posting is conditioned on the account's
    count of the shard's writes posted)."""

    def __init__(self) -> None:
        self._group_of: dict[str, list[dict[str, Any]]] = {}

    def gather(self, records: list[dict[str, Any]]) -> None:
        self._group_of = {}
        current: dict[str, list[dict[str, Any]]] = {}
        sizes: dict[str, int] = {}
        for record in records:
            raw = record.get("dynamodb") or {}
            groupable = _groupable(raw)
            if groupable is None:
                continue
            pk, count = groupable
            group = current.get(pk)
            if group is None or sizes[pk] + count > MAX_POSTED_CHANGES:
                group, sizes[pk] = [], 0
                current[pk] = group
            group.append(raw)
            sizes[pk] += count
            self._group_of[raw["SequenceNumber"]] = group

    def post_with(self, raw: dict[str, Any]) -> None:
        """Post the group ``raw`` opens (nothing when an earlier record of the batch posted it)."""
        group = self._group_of.get(raw.get("SequenceNumber", ""), [raw])
        if group[0].get("SequenceNumber") != raw.get("SequenceNumber"):
            return
        located = shard_of((table.from_item(raw["Keys"]) or {}).get("pk", ""))
        if located is None:
            return
        account_id, shard = located
        writes = []
        for record in group:
            old, new = table.from_item(record.get("OldImage")) or {}, table.from_item(record.get("NewImage"))
            if new is not None and new.get("seq", 0) > old.get("seq", 0):
                writes.append((int(new["seq"]), changes_of(account_id, new)))
        if writes:
            post(account_id, shard, writes, utcnow())


def _groupable(raw: dict[str, Any]) -> tuple[str, int] | None:
    """(pk, changes) of a shard write whose keys and images can be read; None for any other record. A shard
    write that cannot be read stays out of every group: posted on its own, it fails, and is parked alone.
    (Only the images: the changes a batch keeps in its own item are read once, when the group is posted.)"""
    try:
        keys = table.from_item(raw.get("Keys")) or {}
        if keys.get("sk") != SHARD_SK or "SequenceNumber" not in raw:
            return None
        return str(keys.get("pk", "")), _write_count(raw)
    except Exception:  # its own posting will raise, and park it
        return None


def _write_count(raw: dict[str, Any]) -> int:
    """How many changes a shard write made, from its stream image (without reading its batch item)."""
    new = table.from_item(raw.get("NewImage")) or {}
    old = table.from_item(raw.get("OldImage")) or {}
    if int(new.get("seq", 0)) <= int(old.get("seq", 0)):
        return 0
    last = new.get("last") or []
    return int(last[0].get("count", 1)) if len(last) == 1 and "batch" in last[0] else len(last)

"""What a write returns: its entry with the exact running balance, and the account's figures now.

A transaction cannot return values, so after it commits one strongly consistent GetItem reads the account:
if this write's change is still in ``last``, its sequence number and running balance follow from the item.
If other writes landed in between, the journal (which numbers every change from the table's stream) has
recorded the entry on the write's record item (or beside it, for a record on a key of its own); that is read
instead, waiting briefly for the journal.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import Change, Entry, parse_iso
from ledger.store import schema, table
from ledger.store.account_item import parse_account
from ledger.store.batches import batch_ref, holds_no_changes
from ledger.store.shards import hot_view


def entry_attr(change_type: str) -> str:
    return f"entry_{change_type}"


def get_account_item(account_id: str) -> dict[str, Any] | None:
    return table.get_item(account_id, schema.ACCOUNT_SK)


def read_account(account_id: str) -> Account:
    return parse_account(account_id, get_account_item(account_id))


def entries_from_last(item: dict[str, Any]) -> list[Entry]:
    """The entries of the changes in ``last``, numbered back from the account's seq and balance."""
    last = item.get("last", [])
    if holds_no_changes(last):
        return []  # a batch's changes are in its batch item (resolve_batch), a posting's in its item
    return numbered_back(item, [Change.from_map(c) for c in last])


def numbered_back(item: dict[str, Any], changes: list[Change]) -> list[Entry]:
    """The entries of the latest write's changes, numbered back from the account's seq and balance."""
    seq, balance, held = item.get("seq", 0), item.get("balance", 0), item.get("held", 0)
    entries = []
    for change in reversed(changes):
        entries.append(Entry.of(change, seq, balance, held))
        seq, balance, held = seq - 1, balance - change.amount, held - change.held_delta
    return list(reversed(entries))


def _where_recorded(account_id: str, change: Change) -> tuple[dict[str, str], str] | None:
    """The item and attribute where the journal records the change's numbered entry (journal.py)."""
    if change.record is None:
        return None
    if (beside := schema.numbered_key(account_id, change.record)) is not None:
        return beside, "entry"
    return schema.record_key(account_id, change.record), entry_attr(change.type)


def _recorded_entry(account_id: str, change: Change) -> Entry | None:
    if (where := _where_recorded(account_id, change)) is None:
        return None
    key, attribute = where
    recorded = (table.read_item(key, attribute) or {}).get(attribute)
    return Entry.from_map(recorded) if recorded else None


def resolve(account_id: str, change: Change) -> tuple[Entry, Account]:
    item = get_account_item(account_id) or {}
    account = parse_account(account_id, item)
    if account.shards or account.allotted:  # with what its shards spent and the journal has not posted
        account = hot_view(account_id, account, parse_iso(change.created_at))
    for entry in entries_from_last(item):
        if entry.id == change.id:
            return entry, account
    deadline = time.monotonic() + float(os.environ.get("LEDGER_RESULT_WAIT_SECONDS", "2"))
    while True:
        recorded = _recorded_entry(account_id, change)
        if recorded is not None:
            return recorded, account
        if time.monotonic() >= deadline:
            # committed, but numbered by the journal later: the history will show it with its balance
            return Entry.of(change, None, None, None), account
        time.sleep(0.05)


def recorded_entries(account_id: str, changes: list[Change]) -> dict[str, Entry]:
    """The entries the journal has recorded for these changes so far, by change id."""
    by_key: dict[tuple[str, str], tuple[Change, str]] = {}
    for change in changes:
        if (where := _where_recorded(account_id, change)) is not None:
            by_key[(where[0]["pk"], where[0]["sk"])] = (change, where[1])
    attributes = sorted({attribute for _, attribute in by_key.values()})
    found: dict[str, Entry] = {}
    for item in table.batch_get([{"pk": pk, "sk": sk} for pk, sk in by_key], attributes):
        if (known := by_key.get((item.get("pk", ""), item.get("sk", "")))) is None:
            continue
        change, attribute = known
        if recorded := item.get(attribute):
            found[change.id] = Entry.from_map(recorded)
    return found


def wait_for_entries(account_id: str, changes: list[Change]) -> list[Entry]:
    """The entries the journal numbers for these committed changes, waited for briefly (as in ``resolve``);
    one not numbered by then is returned without its place (the history will show it)."""
    deadline = time.monotonic() + float(os.environ.get("LEDGER_RESULT_WAIT_SECONDS", "2"))
    while True:
        found = recorded_entries(account_id, changes)
        if len(found) == len(changes) or time.monotonic() >= deadline:
            return [found.get(c.id) or Entry.of(c, None, None, None) for c in changes]
        time.sleep(0.05)


def resolve_batch(account_id: str, batch_sk: str, changes: list[Change]) -> tuple[list[Entry], Account]:
    """The entries of a batch write that committed, and the account's figures now: numbered back from the
    account while its latest write is still this batch, otherwise as the journal numbered them."""
    item = get_account_item(account_id) or {}
    account = parse_account(account_id, item)
    if batch_ref(item.get("last", [])) == batch_sk:
        return numbered_back(item, changes), account
    return wait_for_entries(account_id, changes), account


def resolve_unposted(account_id: str, change: Change, replayed: bool = False) -> tuple[Entry, Account]:
    """What a hot account's debit returns (store/shards.py): the account's figures as of its latest posted
    entry, and its entry without its place (the journal numbers it when it posts it); a retry's, as the
    journal numbered it if it has."""
    account = read_account(account_id)
    recorded = _recorded_entry(account_id, change) if replayed else None
    return recorded or Entry.of(change, None, None, None), account

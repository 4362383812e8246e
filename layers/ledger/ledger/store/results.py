"""What a write returns: its entry with the exact running balance, and the account's figures now.

A transaction cannot return values, so after it commits one strongly consistent GetItem reads the account:
if this write's change is still in ``last``, its sequence number and running balance follow from the item.
If other writes landed in between, the journal (which numbers every change from the table's stream) has
recorded the entry on the write's record item; that is read instead, waiting briefly for the journal.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import Change, Entry
from ledger.store import table
from ledger.store.account_item import parse_account


def entry_attr(change_type: str) -> str:
    return f"entry_{change_type}"


def get_account_item(account_id: str) -> dict[str, Any] | None:
    return table.get_item(account_id, table.ACCOUNT_SK)


def read_account(account_id: str) -> Account:
    return parse_account(account_id, get_account_item(account_id))


def entries_from_last(item: dict[str, Any]) -> list[Entry]:
    """The entries of the changes in ``last``, numbered back from the account's seq and balance."""
    changes = [Change.from_map(c) for c in item.get("last", [])]
    seq, balance, held = item.get("seq", 0), item.get("balance", 0), item.get("held", 0)
    entries = []
    for change in reversed(changes):
        entries.append(Entry.of(change, seq, balance, held))
        seq, balance, held = seq - 1, balance - change.amount, held - change.held_delta
    return list(reversed(entries))


def _recorded_entry(account_id: str, change: Change) -> Entry | None:
    if change.record is None:
        return None
    item = table.get_item(account_id, change.record, entry_attr(change.type)) or {}
    recorded = item.get(entry_attr(change.type))
    return Entry.from_map(recorded) if recorded else None


def resolve(account_id: str, change: Change) -> tuple[Entry, Account]:
    item = get_account_item(account_id) or {}
    account = parse_account(account_id, item)
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

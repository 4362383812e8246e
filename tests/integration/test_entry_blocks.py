"""A hot account's history in blocks: from the seq it was made hot at, its entries (and its consumption's
``by_type`` entries) live on block partition keys of their own, and every reader of the history (pages, typed
pages, the card's newest entries, the balance at a moment, the export, reconciliation) reads one history across
the account's own partition and its blocks. Blocks are made small here so that a few dozen entries cross
several of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import ledger
from devkit.stream import StreamPump
from devkit.tables import scan
from ledger.domain.changes import Entry
from ledger.store import entries as entry_store
from ledger.store import table as ledger_table

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BLOCK = 7


@pytest.fixture
def journal(fresh_journal: StreamPump, monkeypatch: pytest.MonkeyPatch) -> StreamPump:
    monkeypatch.setattr(entry_store, "BLOCK", BLOCK)
    return fresh_journal


def at(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def cold_hot_cold(journal: StreamPump) -> int:
    """An account used cold (9 entries), then hot (3 shards, 40 debits and a purchase), then cold again (6
    debits), every entry a minute after the one before; the seq its blocks start at."""
    minute = 0
    ledger.grant("acme", 100_000, "purchase", "g1", now=at(minute))
    for i in range(8):
        minute += 1
        ledger.debit("acme", 10 + i, "render", f"cold-{i}", now=at(minute))
    journal.pump()
    ledger.set_spend_shards("acme", 3, now=at(minute))
    for i in range(40):
        minute += 1
        ledger.debit("acme", 1 + i % 5, "tokens", f"hot-{i}", now=at(minute))
        if i % 8 == 7:
            journal.pump()  # postings, so seq follows the minutes
        if i == 20:
            minute += 1
            ledger.grant("acme", 500, "purchase", "g2", now=at(minute))
            journal.pump()
    journal.pump()
    ledger.set_spend_shards("acme", 0, now=at(minute))
    for i in range(6):
        minute += 1
        ledger.debit("acme", 3, "render", f"again-{i}", now=at(minute))
    journal.pump()
    blocks_from = ledger_table.get_item("acme", "A", entry_store.BLOCKS_FROM)
    assert blocks_from == {entry_store.BLOCKS_FROM: 10}, (
        "made hot after 9 entries: its blocks start at seq 10"
    )
    return 10


def all_pages(limit: int, entry_type: str | None = None) -> list[Entry]:
    found: list[Entry] = []
    cursor = None
    for _ in range(200):
        page = ledger.history("acme", limit=limit, cursor=cursor, type=entry_type)
        assert len(page.items) <= limit
        found += page.items
        cursor = page.next_cursor
        if not cursor:
            return found
    raise AssertionError("the pages never ended")


def test_entries_from_the_seq_made_hot_on_are_on_block_keys_and_the_history_is_whole(
    journal: StreamPump,
) -> None:
    first = cold_hot_cold(journal)
    stored = [ledger_table.from_item(raw) or {} for raw in scan()]
    where = {
        int(i["seq"]): i["pk"]
        for i in stored
        if i["sk"].startswith("E#") and i.get("id", "").startswith("ent_")
    }
    newest = ledger.balance_card("acme").account.seq
    assert sorted(where) == list(range(1, newest + 1))
    for seq, pk in where.items():
        expected = "ACCOUNT#acme" if seq < first else f"ACCOUNT#acme#E{seq // BLOCK}"
        assert pk == expected, seq
    for limit in (1, 3, 7, 50, 200):  # pages of every size, across blocks and into the account's partition
        seqs = [e.seq for e in all_pages(limit)]
        assert seqs == list(range(newest, 0, -1)), limit
    balance = 0
    for entry in reversed(all_pages(200)):
        balance += entry.amount
        assert entry.balance_after == balance
    assert balance == ledger.balance_card("acme").account.balance


def test_the_card_shows_the_newest_entries_from_the_blocks(journal: StreamPump) -> None:
    cold_hot_cold(journal)
    ledger.set_spend_shards("acme", 2, now=at(100))
    ledger.debit("acme", 1, "tokens", "last", now=at(100))
    journal.pump()
    card = ledger.balance_card("acme", now=at(101))
    newest = card.account.seq
    assert [e.seq for e in card.recent] == list(range(newest, newest - 5, -1))
    assert card.recent[0].amount == -1


def test_typed_pages_read_the_blocks_for_consumption_and_one_partition_for_the_rest(
    journal: StreamPump,
) -> None:
    cold_hot_cold(journal)
    everything = all_pages(200)
    for entry_type in ("consumption", "purchase"):
        expected = [e.seq for e in everything if e.type == entry_type]
        for limit in (1, 4, 200):
            assert [e.seq for e in all_pages(limit, entry_type)] == expected, (entry_type, limit)
    hot = [i for raw in scan() if (i := ledger_table.from_item(raw) or {}).get("type") == "consumption"]
    in_blocks = {i["type_pk"] for i in hot if i["seq"] >= 10}
    assert in_blocks == {
        f"ACCOUNT#acme#E{s // BLOCK}#consumption" for s in (i["seq"] for i in hot if i["seq"] >= 10)
    }
    purchases = [i for raw in scan() if (i := ledger_table.from_item(raw) or {}).get("type") == "purchase"]
    assert {i["type_pk"] for i in purchases} == {"ACCOUNT#acme#purchase"}


def test_a_cursor_from_before_the_account_was_made_hot_still_reads_the_rest(journal: StreamPump) -> None:
    ledger.grant("acme", 1_000, "purchase", "g1", now=at(0))
    for i in range(6):
        ledger.debit("acme", 1, "render", f"cold-{i}", now=at(1 + i))
    journal.pump()
    page = ledger.history("acme", limit=3)
    assert [e.seq for e in page.items] == [7, 6, 5] and page.next_cursor
    ledger.set_spend_shards("acme", 2, now=at(10))
    for i in range(20):
        ledger.debit("acme", 1, "tokens", f"hot-{i}", now=at(11 + i))
    journal.pump()
    rest = ledger.history("acme", limit=50, cursor=page.next_cursor)
    assert [e.seq for e in rest.items] == [4, 3, 2, 1] and rest.next_cursor is None


def test_balance_at_export_and_reconciliation_read_across_the_blocks(journal: StreamPump) -> None:
    cold_hot_cold(journal)
    oldest_first = list(reversed(all_pages(200)))
    for entry in oldest_first[::5]:
        moment = _moment(entry) + timedelta(seconds=30)
        found = ledger.balance_at("acme", moment)
        # the highest seq at or before the moment (a shard's debits are numbered when posted, so not in time order)
        expected = max(e.seq or 0 for e in oldest_first if _moment(e) <= moment)
        assert found.entry is not None and found.entry.seq == expected, entry.seq
    assert [e.seq for e in ledger.export_entries("acme", page_size=4)] == [e.seq for e in oldest_first]
    window = list(ledger.export_entries("acme", start=at(20), end=at(35), page_size=3))
    assert [e.seq for e in window] == [e.seq for e in oldest_first if at(20) <= _moment(e) < at(35)]
    assert window, "the window holds entries in blocks"
    report = ledger.reconcile_account("acme", full=True)
    assert report.drifts == []
    assert report.entries_read == len(oldest_first)


def _moment(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry.created_at.replace("Z", "+00:00"))


def test_a_forged_cursor_is_refused(journal: StreamPump) -> None:
    import base64
    import json

    ledger.grant("acme", 10, "purchase", "g1", now=at(0))
    for bad in (
        {"sk": "E#1", "b": 3},
        {"sk": "E#000000000000009", "b": 0},
        {"sk": "E#000000000000009", "b": "3"},
    ):
        cursor = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode()
        with pytest.raises(ledger.InvalidRequest):
            ledger.history("acme", cursor=cursor)


def test_a_forged_cursor_on_an_account_with_blocks_reads_only_as_far_as_its_history(
    journal: StreamPump,
) -> None:
    import base64
    import json

    from ledger.store import table as store

    cold_hot_cold(journal)
    newest = ledger.balance_card("acme").account.seq
    queries: list[dict] = []
    real = store.client().query

    def counted(**kwargs: object) -> object:
        queries.append(kwargs)
        return real(**kwargs)

    client = store.client()
    client.query = counted
    try:
        # a seq beyond anything written, and blocks said to start at 1: walked, that is 5 x 10^12 blocks
        forged = {"sk": "E#" + "0" * 15, "b": 1}
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        page = ledger.history("acme", limit=5, cursor=cursor)
    finally:
        delattr(client, "query")
    assert [e.seq for e in page.items] == list(range(newest, newest - 5, -1))
    assert len(queries) <= 3

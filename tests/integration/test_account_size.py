"""Accounts that live for years: their account item stays the same size, and they keep working exactly.

On the single-threaded moto server (in-process moto copies the whole table on every transaction)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

import ledger
from bench.sizes import item_size
from devkit.depth import depth
from devkit.stream import StreamPump
from ledger.store import table as ledger_table
from ledger.store.account_item import MAX_PENDING
from ledger.store.holds import hold_expiry_item, open_holds
from ledger.usecases.sweep import sweep

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 1, tzinfo=UTC)
BATCH = 25
STEPS = depth(12, 24)  # what each of the racing threads does (devkit/depth.py)


def account_item(account: str) -> dict[str, Any]:
    db = ledger_table.client()
    key = ledger_table.to_item({"pk": ledger_table.account_pk(account), "sk": ledger_table.ACCOUNT_SK})
    item: dict[str, Any] = db.get_item(TableName=ledger_table.table_name(), Key=key, ConsistentRead=True)[
        "Item"
    ]
    return item


def put_all(items: list[dict[str, Any]]) -> None:
    db = ledger_table.client()
    for first in range(0, len(items), BATCH):
        batch = [{"PutRequest": {"Item": ledger_table.to_item(i)}} for i in items[first : first + BATCH]]
        db.batch_write_item(RequestItems={ledger_table.table_name(): batch})


def test_an_account_that_receives_grant_after_grant_keeps_an_account_item_of_one_size(
    server_table: str,
) -> None:
    """Subscription credits that never expire, each used up before the next arrives: the item every debit
    writes does not grow with them, and used-up grants leave no item behind."""
    sizes = []
    for n in range(1, 401):
        now = START + timedelta(hours=n)
        ledger.grant("long", 50, "subscription", f"month-{n}", now=now)
        ledger.debit("long", 50, "render", f"use-{n}", now=now)
        sizes.append(item_size(account_item("long")))
    # what varies is bounded: the arrivals waiting for a settlement (at most MAX_PENDING) and 8 days of
    # spend; at the same point of both, after 200 grants or after 400, the item is the same size
    assert abs(sizes[399] - sizes[199]) <= 4, (sizes[199], sizes[399])  # only counters' digits grow
    assert max(sizes) < 1024, max(sizes)  # a debit writes one KB of it: 2 WCU in its transaction
    grants = ledger.live_grants("long", now=START + timedelta(days=30))
    assert [g.remaining for g in grants] == []  # the used-up ones are gone...
    assert ledger.balance_card("long", now=START + timedelta(days=30)).account.grant_items <= MAX_PENDING
    card = ledger.balance_card("long", now=START + timedelta(days=30)).account
    assert (card.balance, card.lifetime_added, card.lifetime_spent) == (0, 20_000, 20_000)
    # ...and it goes on: a grant, a hold, a capture and a debit after all of them
    later = START + timedelta(days=40)
    ledger.grant("long", 500, "purchase", "top-up", now=later)
    hold, _ = ledger.place_hold("long", 100, "job", now=later)
    assert ledger.capture_hold("long", hold.hold_id, 60, now=later).result.balance == 440
    assert ledger.debit("long", 40, "render", "last", now=later).balance == 400
    assert [(g.remaining, g.source) for g in ledger.live_grants("long", now=later)] == [(400, "purchase")]


def test_an_account_with_10_000_open_holds_works_exactly(server_table: str) -> None:
    """10,000 running workers each holding credits: holds, captures, releases and debits still cost the same
    and stay exact, and the sweep releases the holds that lapse, in steps, without reading the others."""
    account, now = "workers", START
    ledger.grant(account, 100_000, "purchase", "funds", now=now)
    pk, at = ledger_table.account_pk(account), int(now.timestamp())
    items = []
    for n in range(10_000):
        hold_id, expires = f"hold_{n:024x}", at + 60 + n  # the first 100 lapse within 160 s
        items.append(
            {
                "pk": pk,
                "sk": ledger_table.hold_sk(hold_id),
                "hold_id": hold_id,
                "account_id": account,
                "amount": 3,
                "expires_at": expires,
                "status": "open",
                "created_at": "2026-03-01T00:00:00.000Z",
                "request_hash": "x",
            }
        )
        items.append(hold_expiry_item(account, hold_id, 3, expires))
    put_all(items)
    # what placing them would have written on the account (holds_placed: these and one captured long ago)
    ledger_table.client().update_item(
        TableName=server_table,
        Key=ledger_table.to_item({"pk": pk, "sk": ledger_table.ACCOUNT_SK}),
        UpdateExpression="ADD held :h, spendable :s, holds_placed :n SET due = :d, due_pk = :p",
        ExpressionAttributeValues=ledger_table.to_item(
            {":h": 30_000, ":s": -30_000, ":n": 10_001, ":d": at + 60, ":p": "DUE"}
        ),
    )
    size = item_size(account_item(account))

    hold, _ = ledger.place_hold(account, 1_000, "one-more", now=now)
    assert ledger.capture_hold(account, hold.hold_id, 400, now=now).result.available == 100_000 - 30_000 - 400
    other, _ = ledger.place_hold(account, 500, "and-another", now=now)
    ledger.release_hold(account, other.hold_id, now=now)
    assert ledger.debit(account, 600, "render", "d1", now=now).available == 69_000
    card = ledger.balance_card(account, now=now).account
    assert (card.balance, card.held, card.available) == (99_000, 30_000, 69_000)
    assert abs(item_size(account_item(account)) - size) <= 8

    report = sweep(now + timedelta(seconds=160))  # holds 0..100 lapsed
    assert (report.accounts, report.released, report.failed) == (1, 101 * 3, 0)
    card = ledger.balance_card(account, now=now + timedelta(seconds=160)).account
    assert (card.held, card.available) == (30_000 - 303, 69_303)
    assert len(open_holds(account)) == 10_000 - 101
    after = now + timedelta(seconds=160)
    assert ledger.get_hold(account, "hold_" + f"{100:024x}", now=after).status == "expired"
    assert ledger.get_hold(account, "hold_" + f"{101:024x}", now=after).status == "open"


@pytest.mark.deep
def test_holds_captures_and_releases_racing_grant_expiries_stay_exact(
    server_table: str, moto_server: str
) -> None:
    """16 threads place, capture and release holds and debit on one account while its grants expire one
    after the other and sweeps run beside them: never below the floor, every credit accounted for."""
    account, base = "racing", datetime.now(UTC)
    for n in range(8):  # 8 grants of 300, one expiring every 0.6 s from 1 s on, and one that never does
        ledger.grant(account, 300, "promotional", f"g{n}", expires_at=base + timedelta(seconds=1 + 0.6 * n))
    ledger.grant(account, 600, "purchase", "lasting")
    journal = StreamPump(server_table, endpoint_url=moto_server)
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def patiently[T](call: Callable[[], T]) -> T:
        """Busy (503) asks the caller to retry with the same key: so do these callers, counting each."""
        for _ in range(50):
            try:
                return call()
            except ledger.Busy:
                with lock:
                    outcomes["busy, retried"] += 1
        raise AssertionError("still busy after 50 retries")

    def worker(index: int) -> None:
        rng = random.Random(index)
        for step in range(STEPS):
            try:
                if rng.random() < 0.3:
                    amount, key = rng.randint(1, 15), f"d{index}-{step}"
                    patiently(partial(ledger.debit, account, amount, "render", key))
                    what = "debit"
                else:
                    amount, key, seconds = rng.randint(1, 30), f"h{index}-{step}", rng.randint(1, 3)
                    hold, _ = patiently(
                        partial(ledger.place_hold, account, amount, key, expires_in_seconds=seconds)
                    )
                    if rng.random() < 0.6:
                        taking = rng.randint(1, hold.amount)
                        patiently(partial(ledger.capture_hold, account, hold.hold_id, taking))
                        what = "capture"
                    else:
                        patiently(partial(ledger.release_hold, account, hold.hold_id))
                        what = "release"
            except (ledger.InsufficientCredits, ledger.HoldExpired):
                what = "refused"
            with lock:
                outcomes[what] += 1

    def sweeper() -> None:
        while not stop.is_set():
            sweep(datetime.now(UTC))
            stop.wait(0.2)

    with ThreadPoolExecutor(17) as pool:
        sweeping = pool.submit(sweeper)
        list(pool.map(worker, range(16)))
        stop.set()
        sweeping.result()
    end = base + timedelta(seconds=30)
    # every grant and hold has expired by then (a hold lasts at most 3 s, and the last may be placed late on a
    # loaded machine)
    expired = max(base + timedelta(seconds=8), datetime.now(UTC) + timedelta(seconds=3.5))
    while datetime.now(UTC) < expired:
        stop.wait(0.2)
    sweep(datetime.now(UTC))
    # something falls due every few hundred ms here: a write may meet three in a row and answer Busy (503),
    # and its retry with the same key goes through
    assert outcomes["debit"] + outcomes["capture"] > 0, outcomes
    assert sum(outcomes[w] for w in ("debit", "capture", "release", "refused")) == 16 * STEPS, outcomes

    card = ledger.balance_card(account, now=end).account
    assert card.available >= card.hard_limit == 0
    assert card.lifetime_added - card.lifetime_spent - card.lifetime_expired == card.balance
    assert card.held == sum(h.amount for h in open_holds(account)) == 0
    assert card.balance == sum(g.remaining for g in ledger.live_grants(account, now=end))
    assert [g.source for g in ledger.live_grants(account, now=end)] in ([], ["purchase"])

    journal.pump()
    entries, cursor = [], None
    while True:
        page = ledger.history(account, limit=200, cursor=cursor)
        entries += page.items
        if not (cursor := page.next_cursor):
            break
    entries.reverse()
    assert [e.seq for e in entries] == list(range(1, card.seq + 1))
    running = 0
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running
    assert running == card.balance
    expired = sum(-e.amount for e in entries if e.type == "expiry")
    assert expired == card.lifetime_expired
    assert len({e.grant_id for e in entries if e.type == "expiry"}) == len(
        [e for e in entries if e.type == "expiry"]
    )

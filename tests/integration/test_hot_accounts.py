"""Hot accounts: debits spread over spend shards, each on a partition key of its own, with the guarantees of
any account: never below the floor, every credit spendable (a shard short of credits borrows, and takes back
what the others hold before anything is refused), exact expiry and burn order (a settlement and a grant's
arrival freeze the account), one numbered history with exact running balances (the journal posts the shards'
writes onto the account item)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from devkit.depth import depth
from devkit.stream import StreamPump
from devkit.tables import scan
from ledger.store import table as ledger_table
from ledger.store.schema import shard_of

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


def history(account: str) -> list[dict]:
    entries: list[dict] = []
    cursor = None
    while True:
        page = ledger.history(account, limit=200, cursor=cursor)
        entries += [e.to_map() for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            return list(reversed(entries))


def assert_history_exact(account: str) -> list[dict]:
    """Numbered 1..n without gap or repeat, each running balance the previous one plus its amount, and the last
    one the account's balance."""
    entries = history(account)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    balance = 0
    for entry in entries:
        balance += entry["amount"]
        assert entry["balance_after"] == balance, entry
    card = ledger.balance_card(account)
    assert card.account.balance == balance
    return entries


def shards_written(account: str) -> Counter[int]:
    items = [ledger_table.from_item(raw) or {} for raw in scan()]
    return Counter(
        located[1]
        for item in items
        if item.get("sk") == "S" and (located := shard_of(item["pk"])) and located[0] == account
    )


def test_hot_debits_spread_over_shards_and_post_into_one_numbered_history(journal: StreamPump) -> None:
    ledger.grant("acme", 10_000, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 4, now=T0)
    amounts = [(i * 37) % 90 + 1 for i in range(60)]
    for i, amount in enumerate(amounts):
        result = ledger.debit("acme", amount, "render", f"job-{i}", now=T0 + timedelta(seconds=i))
        assert result.entry.amount == -amount
    assert len(shards_written("acme")) >= 2, "the debits went to several shards"
    journal.pump()
    entries = assert_history_exact("acme")
    assert [e["type"] for e in entries].count("consumption") == 60
    assert Counter(e["amount"] for e in entries if e["type"] == "consumption") == Counter(-a for a in amounts)
    card = ledger.balance_card("acme", now=T0 + timedelta(minutes=5))
    assert card.account.balance == 10_000 - sum(amounts)
    assert card.account.lifetime_spent == sum(amounts)


def test_the_card_counts_what_the_shards_spent_before_the_journal_posts_it(journal: StreamPump) -> None:
    ledger.grant("acme", 1_000, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 3, now=T0)
    for i in range(10):
        ledger.debit("acme", 25, "render", f"job-{i}", now=T0)
    card = ledger.balance_card("acme", now=T0)  # nothing posted: the journal has not run
    assert (card.account.balance, card.account.available, card.account.lifetime_spent) == (750, 750, 250)
    assert card.spent_last_7_days == 250


def test_every_credit_of_a_hot_account_can_be_spent_and_none_more(journal: StreamPump) -> None:
    ledger.grant("acme", 1_000, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 8, now=T0)
    spent, refused = 0, 0
    for i in range(80):
        try:
            spent += ledger.debit("acme", 17, "render", f"job-{i}", now=T0).entry.amount * -1
        except ledger.InsufficientCredits as error:
            refused += 1
            assert error.details["available"] == 1_000 - spent
    assert spent == 17 * (1_000 // 17) and refused == 80 - 1_000 // 17
    assert ledger.debit("acme", 1_000 - spent, "render", "last-drop", now=T0).entry.amount == -(1_000 - spent)
    with pytest.raises(ledger.InsufficientCredits):
        ledger.debit("acme", 1, "render", "one-more", now=T0)
    journal.pump()
    assert assert_history_exact("acme")[-1]["balance_after"] == 0


def test_a_hot_debit_retried_is_a_duplicate_and_another_body_a_conflict(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 2, now=T0)
    first = ledger.debit("acme", 10, "render", "job-1", now=T0)
    again = ledger.debit("acme", 10, "render", "job-1", now=T0)
    assert again.replayed and again.entry.id == first.entry.id
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.debit("acme", 11, "render", "job-1", now=T0)
    journal.pump()
    assert ledger.debit("acme", 10, "render", "job-1", now=T0).entry.seq == 2  # numbered by the journal
    assert ledger.balance_card("acme").account.balance == 90


def test_expiry_of_a_hot_account_is_exact_with_consumption_not_yet_posted(journal: StreamPump) -> None:
    expires = T0 + timedelta(hours=1)
    ledger.grant("acme", 100, "purchase", "soon", expires_at=expires, now=T0)
    ledger.grant("acme", 100, "purchase", "never", now=T0)
    ledger.set_spend_shards("acme", 4, now=T0)
    for i in range(6):
        ledger.debit("acme", 5, "render", f"job-{i}", now=T0 + timedelta(minutes=i))
    # not posted yet; after the expiry the next debit settles the account first
    ledger.debit("acme", 1, "render", "after", now=expires + timedelta(seconds=1))
    journal.pump()
    entries = assert_history_exact("acme")
    expiry = [e for e in entries if e["type"] == "expiry"]
    assert [e["amount"] for e in expiry] == [-70], "the soonest-expiring grant burned first: 30 of it used"
    assert ledger.balance_card("acme", now=expires + timedelta(seconds=2)).account.balance == 99


def test_a_grant_arriving_on_a_hot_account_gets_none_of_the_consumption_before_it(
    journal: StreamPump,
) -> None:
    ledger.grant("acme", 100, "purchase", "never", now=T0)
    ledger.set_spend_shards("acme", 4, now=T0)
    for i in range(6):
        ledger.debit("acme", 10, "render", f"job-{i}", now=T0)
    expires = T0 + timedelta(hours=1)
    # burns first (it expires), but the 60 consumed before it arrived were the first grant's
    ledger.grant("acme", 50, "promotional", "soon", expires_at=expires, now=T0 + timedelta(seconds=1))
    ledger.settle_due("acme", now=expires + timedelta(seconds=1))
    journal.pump()
    expiry = [e for e in assert_history_exact("acme") if e["type"] == "expiry"]
    assert [e["amount"] for e in expiry] == [-50]
    assert ledger.balance_card("acme", now=expires + timedelta(seconds=2)).account.balance == 40


def test_a_batch_on_a_hot_account_is_applied_in_order_and_posted(journal: StreamPump) -> None:
    ledger.grant("acme", 500, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 4, now=T0)
    events = [
        {"account_id": "acme", "amount": 60, "operation": "tokens", "idempotency_key": f"e{i}"}
        for i in range(10)
    ]
    results = ledger.debit_many(events, now=T0)
    assert [r.status for r in results] == ["accepted"] * 8 + ["insufficient_credits"] * 2
    assert results[8].error is not None and results[8].error.details["available"] == 20
    again = ledger.debit_many(events[:3], now=T0)
    assert [r.status for r in again] == ["duplicate"] * 3
    journal.pump()
    entries = assert_history_exact("acme")
    assert entries[-1]["balance_after"] == 20
    assert ledger.debit_many(events[:1], now=T0)[0].result.entry.seq == 2


def test_an_account_made_hot_and_back_keeps_one_history(journal: StreamPump) -> None:
    ledger.grant("acme", 300, "purchase", "g1", now=T0)
    ledger.debit("acme", 10, "render", "cold-1", now=T0)
    ledger.set_spend_shards("acme", 2, now=T0)
    ledger.debit("acme", 20, "render", "hot-1", now=T0)
    ledger.set_spend_shards("acme", 0, now=T0)
    ledger.debit("acme", 30, "render", "cold-2", now=T0)
    assert ledger.balance_card("acme", now=T0).account.balance == 240
    journal.pump()
    # a shard's debit takes its place in the history when it is posted: here after the debit made cold again
    assert [e["amount"] for e in assert_history_exact("acme")] == [300, -10, -30, -20]


def test_shards_must_be_zero_or_two_to_thirty_two(journal: StreamPump) -> None:
    ledger.grant("acme", 1, "purchase", "g1")
    for bad in (1, 33, -1, "4", 2.0, True):
        with pytest.raises(ledger.InvalidRequest):
            ledger.set_spend_shards("acme", bad)  # type: ignore[arg-type]
    with pytest.raises(ledger.NotFound):
        ledger.set_spend_shards("nobody", 4)
    assert ledger_table.get_item("acme", "A", "shards") == {}


@pytest.mark.slow
@pytest.mark.deep
def test_threads_of_debits_and_batches_on_one_hot_account(
    server_table: str, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 threads of single debits and batches (some repeating earlier keys) on one hot account, against a
    single-threaded moto server, while the journal posts and a grant arrives now and then (freezing the
    account): thousands of events (over 5,000 in the deep run), never below the floor, no key applied twice,
    every applied event one entry, and the entries add up to the balance."""
    first = depth(25_000, 60_000)  # less than they ask for (devkit/depth.py)
    ledger.grant("hot", first, "purchase", "g0")
    ledger.set_spend_shards("hot", 8)
    journal = StreamPump(server_table, endpoint_url=moto_server)
    applied: dict[str, int] = {}
    outcomes: Counter[str] = Counter()
    granted = [first]
    lock = threading.Lock()
    done = threading.Event()

    def record(key: str, amount: int, status: str) -> None:
        with lock:
            outcomes[status] += 1
            if status == "accepted":
                assert key not in applied, f"{key} applied twice"
                applied[key] = amount
            elif status == "duplicate":
                assert key in applied, f"{key} answered as a duplicate but never applied"

    def worker(index: int) -> None:
        rng = random.Random(index)
        mine: list[tuple[str, int]] = []
        for step in range(depth(8, 16)):
            if rng.random() < 0.3:
                key, amount = f"s{index}-{step}", rng.randint(1, 40)
                try:
                    result = ledger.debit("hot", amount, "render", key)
                    record(key, amount, "duplicate" if result.replayed else "accepted")
                    mine.append((key, amount))
                except ledger.InsufficientCredits:
                    record(key, amount, "insufficient_credits")
                continue
            events = [(f"b{index}-{step}-{n}", rng.randint(1, 40)) for n in range(rng.randint(10, 50))]
            events += rng.sample(mine, min(len(mine), 2))  # retries of earlier ones
            batch = [
                {"account_id": "hot", "amount": amount, "operation": "tokens", "idempotency_key": key}
                for key, amount in events
            ]
            for (key, amount), outcome in zip(events, ledger.debit_many(batch), strict=True):
                record(key, amount, outcome.status)
                if outcome.status == "accepted":
                    mine.append((key, amount))

    def alongside() -> None:
        """The journal posting as it runs, and a grant arriving now and then."""
        n = 0
        while not done.is_set():
            journal.pump()
            n += 1
            if n % 5 == 0:
                ledger.grant("hot", 500, "promotional", f"top-{n}")
                with lock:
                    granted.append(500)

    helper = threading.Thread(target=alongside)
    helper.start()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(worker, range(16)))
    done.set()
    helper.join()
    while journal.pump():
        pass

    events = sum(outcomes.values())
    assert events >= depth(2_500, 5_000), outcomes
    assert outcomes["insufficient_credits"] > 0 and outcomes["duplicate"] > 0, outcomes  # it ran dry
    spent = sum(applied.values())
    card = ledger.balance_card("hot").account
    assert card.balance == sum(granted) - spent >= 0, outcomes
    entries = history("hot")  # oldest first
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    used = [e for e in entries if e["type"] == "consumption"]
    consumption = Counter(e["reference"] for e in used)
    assert set(consumption) == set(applied) and max(consumption.values()) == 1
    assert {e["reference"]: -e["amount"] for e in used} == applied
    running = 0
    for entry in entries:
        running += entry["amount"]
        assert entry["balance_after"] == running >= 0
    assert running == card.balance


def test_credits_taken_back_from_a_hot_account_leave_its_shards_nothing_to_spend_below_the_floor(
    journal: StreamPump,
) -> None:
    ledger.grant("acme", 1_000, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 4, now=T0)
    for i in range(8):  # the shards borrow: each holds credits lent by the account item
        ledger.debit("acme", 5, "render", f"job-{i}", now=T0)
    assert ledger.balance_card("acme", now=T0).account.available == 960
    # an operator takes back 950 within the floor: it needs what the shards hold, and gets it
    taken = ledger.adjust("acme", -950, "duplicate grant", "fix-1", now=T0)
    assert taken.entry.amount == -950
    with pytest.raises(ledger.InsufficientCredits):
        ledger.adjust("acme", -11, "too much", "fix-2", now=T0)
    # a refund takes the rest and more: the account is in debt, and no shard may spend anything now
    ledger.adjust("acme", -30, "refund", "fix-3", allow_below_floor=True, now=T0)
    for i in range(8):
        with pytest.raises(ledger.InsufficientCredits):
            ledger.debit("acme", 1, "render", f"after-{i}", now=T0)
    card = ledger.balance_card("acme", now=T0).account
    assert (card.balance, card.available) == (-20, -20)
    assert ledger_table.get_item("acme", "A", "frozen") == {}, "the freeze was lifted by the write"
    journal.pump()
    assert assert_history_exact("acme")[-1]["balance_after"] == -20


def test_a_posting_of_hundreds_of_changes_numbers_every_retry_and_writes_each_entry_once(
    journal: StreamPump,
) -> None:
    ledger.grant("acme", 100_000, "purchase", "g1", now=T0)
    ledger.set_spend_shards("acme", 2, now=T0)
    events = [
        {"account_id": "acme", "amount": 1 + i % 3, "operation": "tokens", "idempotency_key": f"k{b}-{i}"}
        for b in range(3)
        for i in range(100)
    ]
    for start in range(0, 300, 100):
        assert {r.status for r in ledger.debit_many(events[start : start + 100], now=T0)} == {"accepted"}
    journal.pump()  # a shard's writes posted together: hundreds of entries, and as many beside their records
    entries = assert_history_exact("acme")
    assert len(entries) == 301
    by_key = {e["reference"]: e["seq"] for e in entries if e["type"] == "consumption"}
    again = ledger.debit_many(events[:100], now=T0) + ledger.debit_many(events[200:], now=T0)
    assert {r.status for r in again} == {"duplicate"}
    assert [r.result.entry.seq for r in again if r.result] == [
        by_key[e["idempotency_key"]] for e in events[:100] + events[200:]
    ]
    journal.pump()  # nothing new: the retries wrote nothing
    assert len(assert_history_exact("acme")) == 301

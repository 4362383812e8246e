"""Many writers on one account at once: never an overdraft, every credit accounted for, history exact.

Runs against a single-threaded moto server (each DynamoDB call atomic, as in DynamoDB) while the journal is
fed from the table's stream alongside, as Lambda would."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pytest

import ledger
from devkit.depth import depth
from devkit.stream import StreamPump
from ledger.domain.changes import Entry
from ledger.store import table as ledger_table
from ledger.store import writes
from ledger.store.holds import open_holds as holds_in_order

ACCOUNT = "acme"
THREADS = 16
OPS_PER_THREAD = depth(48, 128)  # 768 operations, 2,048 in the deep run (devkit/depth.py)
GRANT = depth(3_000, 10_000)  # less than they ask for: the run exhausts it
MAX_AMOUNT = 20
SEED = 20261121


class CountingRandom:
    """Stands in for ``random`` in the transaction retry loop: each backoff is one retried conflict."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retries = 0

    def uniform(self, a: float, b: float) -> float:
        with self.lock:
            self.retries += 1
        return random.uniform(a, b)


@dataclass
class Log:
    """What one thread did and what the ledger answered."""

    ops: int = 0
    requested: dict[str, int] = field(default_factory=dict)  # debit key → amount
    accepted: dict[str, tuple[int, str]] = field(default_factory=dict)  # debit key → (amount, entry id)
    refused_debits: int = 0
    refused_holds: int = 0
    replayed: int = 0
    retried: int = 0
    holds: dict[str, int] = field(default_factory=dict)  # hold id → amount
    open_holds: list[str] = field(default_factory=list)
    captured: dict[str, int] = field(default_factory=dict)  # hold id → credits captured
    released: set[str] = field(default_factory=set)
    entries: list[Entry] = field(default_factory=list)  # the entries the writes returned
    min_available: int = GRANT


def debit(log: Log, key: str, amount: int, retry: bool) -> None:
    try:
        result = ledger.debit(ACCOUNT, amount, "render", key)
    except ledger.InsufficientCredits:
        assert key not in log.accepted, f"a retry of accepted debit {key} was refused"
        log.refused_debits += 1
        return
    log.min_available = min(log.min_available, result.available)
    log.entries.append(result.entry)
    if result.replayed:
        assert retry and key in log.accepted, f"debit {key} replayed a request never accepted"
        assert result.entry.id == log.accepted[key][1], f"replay of {key} returned another entry"
        log.replayed += 1
    else:
        assert key not in log.accepted, f"debit {key} was charged twice"
        log.accepted[key] = (amount, result.entry.id)
    assert result.entry.type == "consumption" and result.entry.amount == -amount


def place(log: Log, key: str, amount: int) -> None:
    try:
        hold, replayed = ledger.place_hold(ACCOUNT, amount, key)
    except ledger.InsufficientCredits:
        log.refused_holds += 1
        return
    assert not replayed and hold.status == "open" and hold.amount == amount
    log.holds[hold.hold_id] = amount
    log.open_holds.append(hold.hold_id)


def resolve(log: Log, rng: random.Random) -> None:
    hold_id = log.open_holds.pop(rng.randrange(len(log.open_holds)))
    if rng.random() < 0.5:
        credits = rng.randint(1, log.holds[hold_id])
        done = ledger.capture_hold(ACCOUNT, hold_id, credits)
        assert (done.hold.status, done.hold.captured) == ("captured", credits)
        assert (done.result.entry.type, done.result.entry.amount) == ("capture", -credits)
        log.captured[hold_id] = credits
    else:
        done = ledger.release_hold(ACCOUNT, hold_id)
        assert (done.hold.status, done.result.entry.type) == ("released", "release")
        log.released.add(hold_id)
    log.min_available = min(log.min_available, done.result.available)
    log.entries.append(done.result.entry)


def work(index: int, start: threading.Barrier) -> Log:
    rng, log = random.Random(SEED + index), Log()
    start.wait()
    for step in range(OPS_PER_THREAD):
        log.ops += 1
        roll = rng.random()
        if roll < 0.06 and log.requested:  # a client retrying an earlier request as it was
            key = rng.choice(sorted(log.requested))
            log.retried += 1
            debit(log, key, log.requested[key], retry=True)
        elif roll < 0.70 or (roll >= 0.90 and not log.open_holds):
            key = f"t{index}-d{step}"
            log.requested[key] = rng.randint(1, MAX_AMOUNT)
            debit(log, key, log.requested[key], retry=False)
        elif roll < 0.90:
            place(log, f"t{index}-h{step}", rng.randint(1, MAX_AMOUNT))
        else:
            resolve(log, rng)
    return log


class Journal(threading.Thread):
    """The journal, fed from the stream while the writes go on."""

    def __init__(self, pump: StreamPump) -> None:
        super().__init__(daemon=True)
        self.pump, self.done = pump, threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.done.wait(0.25):
                self.pump.pump()
        except BaseException as error:
            self.error = error

    def drain(self) -> None:
        self.done.set()
        self.join()
        if self.error:
            raise self.error
        while self.pump.pump():
            pass


def all_entries() -> list[Entry]:
    entries: list[Entry] = []
    cursor = None
    while True:
        page = ledger.history(ACCOUNT, limit=200, cursor=cursor)
        entries.extend(page.items)
        if not (cursor := page.next_cursor):
            return entries


@pytest.mark.slow
@pytest.mark.deep
def test_concurrent_debits_and_holds_never_overdraw_and_the_history_adds_up(
    server_table: str, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conflicts = CountingRandom()
    monkeypatch.setattr(writes, "random", conflicts)
    ledger.grant(ACCOUNT, GRANT, source="promotional", idempotency_key="welcome")
    ledger_table.client()  # one shared client, created before the threads start
    journal = Journal(StreamPump(server_table, endpoint_url=moto_server))
    journal.start()

    began = time.monotonic()
    start = threading.Barrier(THREADS)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(work, i, start) for i in range(THREADS)]
            logs = [f.result() for f in futures]
    finally:
        journal.done.set()
    elapsed = time.monotonic() - began
    journal.drain()
    drained = time.monotonic() - began - elapsed

    accepted = {k: v for log in logs for k, v in log.accepted.items()}
    holds = {h: a for log in logs for h, a in log.holds.items()}
    captured = {h: c for log in logs for h, c in log.captured.items()}
    released = {h for log in logs for h in log.released}
    open_holds = {h for log in logs for h in log.open_holds}
    spent = sum(amount for amount, _ in accepted.values()) + sum(captured.values())
    ops = sum(log.ops for log in logs)
    refused = sum(log.refused_debits + log.refused_holds for log in logs)
    replayed = sum(log.replayed for log in logs)
    print(
        f"\n{ops} operations in {elapsed:.1f}s ({ops / elapsed:.0f}/s): {len(accepted)} debits accepted,"
        f" {sum(log.refused_debits for log in logs)} debits and {sum(log.refused_holds for log in logs)}"
        f" holds refused, {replayed} replayed of {sum(log.retried for log in logs)} retried,"
        f" {len(holds)} holds ({len(captured)} captured, {len(released)} released, {len(open_holds)} open),"
        f" {conflicts.retries} transaction conflicts retried; the journal caught up {drained:.1f}s later"
    )
    assert ops == THREADS * OPS_PER_THREAD
    assert refused > 0 and replayed > 0, "the run should exhaust the grant and replay retries"

    # no overdraft, and every credit accounted for
    account = ledger.balance_card(ACCOUNT).account
    assert min(log.min_available for log in logs) >= 0
    assert account.balance >= 0 and account.available >= 0
    assert account.balance == GRANT - spent
    assert account.lifetime_spent == spent
    assert account.held == sum(holds[h] for h in open_holds)
    assert {h.id for h in holds_in_order(ACCOUNT)} == open_holds

    # the history: one entry per change, numbered without gaps, with an exact running balance
    entries = sorted(all_entries(), key=lambda e: e.seq or 0)
    assert len({e.id for e in entries}) == len(entries), "duplicate entry ids"
    assert [e.seq for e in entries] == list(range(1, account.seq + 1))
    balance = held = 0
    for e in entries:
        balance += e.amount
        if e.type == "hold":
            held += holds[e.hold_id or ""]
        elif e.type in ("capture", "release"):
            held -= holds[e.hold_id or ""]
        assert (e.balance_after, e.held_after) == (balance, held), f"running figures break at seq {e.seq}"
    assert balance == account.balance and held == account.held
    types = Counter(e.type for e in entries)
    assert types == Counter(
        grant=1, consumption=len(accepted), hold=len(holds), capture=len(captured), release=len(released)
    )
    consumption = {e.reference: (-e.amount, e.id) for e in entries if e.type == "consumption"}
    assert consumption == accepted
    assert {e.hold_id for e in entries if e.type == "hold"} == set(holds)
    assert {e.hold_id: -e.amount for e in entries if e.type == "capture"} == captured
    assert {e.hold_id for e in entries if e.type == "release"} == released

    # what the writes returned agrees with the journal where they could tell the running balance
    by_id = {e.id: e for e in entries}
    returned = [r for log in logs for r in log.entries]
    for r in returned:
        assert r.id in by_id
        if r.balance_after is not None:
            assert (r.seq, r.balance_after) == (by_id[r.id].seq, by_id[r.id].balance_after)
    numbered = sum(r.balance_after is not None for r in returned)
    print(f"{numbered} of {len(returned)} write results carried their running balance")

    days = sorted(e.created_at[:10] for e in entries)
    report = ledger.usage(ACCOUNT, date.fromisoformat(days[0]), date.fromisoformat(days[-1]))
    assert report.total == spent

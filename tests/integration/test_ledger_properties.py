"""The real ledger, driven by random operations on a controlled clock, against a reference model.

Each example runs against its own moto table. Time moves in random steps (seconds to days), so grants and
holds expire in the middle of a run, sometimes swept right away, sometimes only found by the next write.

The model keeps every grant's remainder, burned in burn order the moment credits are consumed, and the
open holds. When a grant expires, its remainder at that exact moment leaves the balance. Consumption that
finds no credit left (only possible with a negative hard_limit) is debt, repaid first by the next grants to
arrive, in the order they arrive. The ledger settles when a sweep runs (``settle_due``) or when a write that
spends finds its ``due`` guard tripped; the model keeps a copy of that guard to know when. The balance card applies what has expired as of the moment it is read; the stored
counters, and so the history, include it until a settlement writes it, and the model keeps it aside to check
them.

The notifications function runs over the table's stream beside the journal, and its events reach a bus: the
model counts the low-balance and depleted crossings of the account item's stored figures at every write the
ledger makes, and every expired remainder must be announced once with its exact credits. The sweep also runs as
the scheduled function does, finding the account through the ``due`` index.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

import ledger
from credits_local.functions import LambdaContext
from credits_local.streams import lambda_record
from devkit.bus import Notifications
from devkit.depth import depth
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from ledger.domain.grants import Grant
from ledger.store import table as ledger_table
from ledger.store.grants import grant_item
from ledger.store.holds import hold_expiry_item
from ledger.usecases import debit_many as debit_many_module
from ledger.usecases import expire as expire_module
from ledger.usecases import grant as grant_module
from ledger.usecases.hold import CaptureResult
from ledger.usecases.reconcile import reconcile_account
from tests.conftest import TABLE, create_table

ACCOUNT = "acct-prop"
START = 1_767_225_600  # 2026-01-01T00:00:00Z
FREE_SOURCES = ("promotional", "subscription")
SOURCES = ("purchase", "auto_top_up", "promotional", "subscription", "adjustment")
DEFAULT_PRIORITY = 100
MAX_AMOUNT = 10**12
EXAMPLES = int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", depth(6, 25)))  # devkit/depth.py
DEFAULT_THRESHOLD = 100  # the tests' DEFAULT_LOW_BALANCE_THRESHOLD


def mostly(common: st.SearchStrategy[int], rare: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """``common`` seven times out of eight: small amounts make grants, debits and holds interact."""
    return st.integers(0, 7).flatmap(lambda n: rare if n == 0 else common)


amounts = mostly(st.integers(1, 150), st.integers(1, MAX_AMOUNT))
durations = st.one_of(st.integers(1, 120), st.integers(121, 6 * 3600), st.integers(6 * 3600, 3 * 86400))
hold_seconds = st.one_of(st.integers(1, 120), st.integers(121, 86400))
waits = st.one_of(st.just(0), durations)  # time passing just before an operation
hard_limits = mostly(st.sampled_from([0, -50, -200, -1000, 20]), st.integers(-MAX_AMOUNT, 0))


def tally(name: str) -> None:
    """Count a situation for ``--hypothesis-show-statistics`` (a no-op outside Hypothesis)."""
    with contextlib.suppress(InvalidArgument):
        event(name)


@dataclass
class ModelGrant:
    id: str
    remaining: int
    source: str
    priority: int
    created_at: int  # epoch milliseconds
    expires_at: int | None  # epoch seconds

    def order(self) -> tuple[float, float, int, int, str]:
        expiry = math.inf if self.expires_at is None else self.expires_at
        return (self.priority, expiry, 0 if self.source in FREE_SOURCES else 1, self.created_at, self.id)


@dataclass
class ModelHold:
    id: str
    amount: int
    expires_at: int
    status: str = "open"  # open, captured, released, expired
    captured: int | None = None


class Model:
    def __init__(self, now: int) -> None:
        self.now = now
        self.grants: dict[str, ModelGrant] = {}  # not expired (exhausted ones included)
        self.debt = 0
        self.holds: dict[str, ModelHold] = {}
        self.hard_limit = 0
        self.added = self.spent = self.expired = 0
        self.seq = 0  # entries the ledger has written
        self.due: int | None = None  # the ledger's guard
        self.expiries: dict[str, int] = {}  # grant id → credits that expired with it
        self.unswept: list[str] = []  # grants expired here, not yet by the ledger
        self.unswept_released = 0  # credits of holds expired here, not yet released by the ledger
        self.unswept_changes = 0
        self.threshold = DEFAULT_THRESHOLD
        self.stored = (0, DEFAULT_THRESHOLD, 0)  # the account item's available, threshold and floor
        self.lows = self.depletions = 0  # notifications the ledger's writes should have caused

    # figures

    @property
    def balance(self) -> int:
        return self.added - self.spent - self.expired

    @property
    def held(self) -> int:
        return sum(h.amount for h in self.holds.values() if h.status == "open")

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def unswept_expired(self) -> int:
        return sum(self.expiries[g] for g in self.unswept)

    def remainders(self) -> dict[str, int]:
        """Remainders now, as if the debt were paid now (what the balance card shows)."""
        left = self.debt
        out = {}
        for grant in sorted(self.grants.values(), key=ModelGrant.order):
            take = min(grant.remaining, left)
            left -= take
            if grant.remaining - take:
                out[grant.id] = grant.remaining - take
        return out

    def next_due(self) -> int | None:
        """The next moment a grant with credits left expires or an open hold lapses."""
        remainders = self.remainders()
        moments = [
            g.expires_at for g in self.grants.values() if g.id in remainders and g.expires_at is not None
        ]
        moments += [h.expires_at for h in self.holds.values() if h.status == "open"]
        return min(moments, default=None)

    # events

    def _pay(self, amount: int) -> int:
        for grant in sorted(self.grants.values(), key=ModelGrant.order):
            take = min(grant.remaining, amount)
            grant.remaining -= take
            amount -= take
        return amount

    def consume(self, amount: int) -> None:
        self.spent += amount
        self.debt = self._pay(self.debt + amount)
        if self.debt:
            tally("overdraft")

    def lower_due(self, moment: int) -> None:
        self.due = moment if self.due is None else min(self.due, moment)

    def advance(self, seconds: int) -> None:
        """Time passes: grants and holds expire at their exact moments, in order."""
        end = self.now + seconds
        moments = {g.expires_at for g in self.grants.values() if g.expires_at is not None}
        moments |= {h.expires_at for h in self.holds.values() if h.status == "open"}
        for moment in sorted(m for m in moments if m <= end):
            expiring = [g for g in self.grants.values() if g.expires_at == moment]
            if expiring:
                self.debt = self._pay(self.debt)  # owed consumption is paid before credits expire
            for grant in expiring:
                del self.grants[grant.id]
                if grant.remaining:
                    self.expired += grant.remaining
                    self.expiries[grant.id] = grant.remaining
                    self.unswept.append(grant.id)
                    tally("credits expired")
                    self.unswept_changes += 1
            for hold in self.holds.values():
                if hold.status == "open" and hold.expires_at == moment:
                    hold.status = "expired"
                    tally("hold expired")
                    self.unswept_released += hold.amount
                    self.unswept_changes += 1
        self.now = end

    def wrote(self) -> None:
        """The ledger wrote the account: count the crossings between its stored figures before and after.

        Until a settlement writes them, the account item still holds credits that have expired and holds
        that have lapsed."""
        available = self.available + self.unswept_expired - self.unswept_released
        before, threshold, floor = self.stored
        if before >= threshold and available < self.threshold:  # falling below (not onto) the threshold
            self.lows += 1
            tally("low balance")
        if before > floor and available <= self.hard_limit:
            self.depletions += 1
            tally("depleted")
        self.stored = (available, self.threshold, self.hard_limit)

    def is_due(self) -> bool:
        return self.due is not None and self.due <= self.now

    def ledger_settles(self) -> tuple[int, int]:
        """The ledger ran settle_due now. Returns (credits expired, credits released) it should report."""
        self.debt = self._pay(self.debt)
        reported = (self.unswept_expired, self.unswept_released)
        self.seq += self.unswept_changes
        self.unswept, self.unswept_released, self.unswept_changes = [], 0, 0
        expiries = [g.expires_at for g in self.grants.values() if g.remaining and g.expires_at is not None]
        expiries += [h.expires_at for h in self.holds.values() if h.status == "open"]
        self.due = min(expiries, default=None)
        self.wrote()
        return reported

    def guarded_write(self) -> None:
        """A write that spends (debit, hold, capture) settles first when the ledger's guard is tripped."""
        if self.is_due():
            tally("a write settled first")
            self.ledger_settles()


class Journal(StreamPump):
    """The stream pump with two calls per read instead of four: the shard ids are read once (moto keeps one
    shard) and one GetRecords takes everything after the last record delivered (up to 1,000 at a time). The pump runs after every
    step, so this is a good part of the run time."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name)
        description = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        self.shards = [shard["ShardId"] for shard in description["Shards"]]

    def _read(self) -> None:
        for shard_id in self.shards:
            position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
            if shard_id in self.last_sequence:
                position = {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "SequenceNumber": self.last_sequence[shard_id],
                }
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)
            next_iterator = iterator["ShardIterator"]
            while True:  # more than one call only after a preload of thousands of items
                page = self.streams.get_records(ShardIterator=next_iterator, Limit=1000)
                for record in page["Records"]:
                    self.pending.append(lambda_record(record, self.arn))
                    self.last_sequence[shard_id] = record["dynamodb"]["SequenceNumber"]
                if len(page["Records"]) < 1000 or not page.get("NextShardIterator"):
                    break
                next_iterator = page["NextShardIterator"]


def at(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        ledger_table.reset_client()
        create_table()
        self.journal = Journal(TABLE)
        self.notifications = Notifications(TABLE)
        self.published: list[dict] = []
        self.model = Model(START)
        self.counter = 0
        self.debits: list[tuple[str, int, str, int | None]] = []  # key, amount, entry id, balance_after
        self.grants: list[tuple[str, dict]] = []  # key, arguments
        self.checked_seq = self.checked_balance = self.checks = 0  # history verified up to here
        self.expiry_entries: dict[str, int] = {}  # grant id → credits its expiry entry took
        self.limits = pytest.MonkeyPatch()
        self.hot = False  # HotLedgerMachine: the account spends through shards (store/shards.py)
        self.loose_crossings = False  # a burst posted after a grant: crossings seen in another order

    def teardown(self) -> None:
        self.limits.undo()
        self.mock.stop()
        ledger_table.reset_client()

    def key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def now(self) -> datetime:
        return at(self.model.now)

    # operations

    PRELOAD = 0  # grants and holds written directly before the run (an account with a long life)

    @initialize(
        amount=st.integers(1, 500),
        overdraft=st.one_of(st.none(), st.sampled_from([-50, -300])),
        tight=st.booleans(),
        preload_seed=st.integers(0, 2**32),
    )
    def start(self, amount: int, overdraft: int | None, tight: bool = False, preload_seed: int = 0) -> None:
        if (
            tight
        ):  # settle in the smallest steps: one grant, expiry and hold per transaction, one arrival waiting
            tally("tight settlement steps")
            for module, name in TIGHT_LIMITS:
                self.limits.setattr(module, name, 1)
        if self.PRELOAD:
            preload(self.model, self.PRELOAD, preload_seed)
        self.add_grant(amount, "purchase", None, None)
        if overdraft is not None:
            self.set_limits(overdraft, 0)

    @rule(seconds=durations)
    def advance(self, seconds: int) -> None:
        self.model.advance(seconds)

    @rule(
        amount=amounts,
        source=st.sampled_from(SOURCES),
        priority=st.one_of(st.none(), st.integers(0, 3)),
        expires_in=st.one_of(st.none(), durations),
        wait=waits,
    )
    def add_grant(
        self, amount: int, source: str, priority: int | None, expires_in: int | None, wait: int = 0
    ) -> None:
        m = self.model
        m.advance(wait)
        key = self.key("g")
        expires_at = None if expires_in is None else m.now + expires_in
        args = {
            "amount": amount,
            "source": source,
            "expires_at": None if expires_at is None else at(expires_at),
            "priority": priority,
        }
        made = ledger.grant(ACCOUNT, idempotency_key=key, now=self.now(), **args)
        grant = ModelGrant(
            id=made.grant.id,
            remaining=amount,
            source=source,
            priority=DEFAULT_PRIORITY if priority is None else priority,
            created_at=m.now * 1000,
            expires_at=expires_at,
        )
        assert grant.id not in m.grants
        repaid = min(grant.remaining, m.debt)  # a grant arriving in debt repays it first
        grant.remaining -= repaid
        m.debt -= repaid
        m.grants[grant.id] = grant
        m.added += amount
        m.seq += 1
        m.wrote()
        if expires_at is not None:
            m.lower_due(expires_at)
        assert not made.result.replayed
        assert made.result.balance == m.balance + m.unswept_expired
        assert made.result.entry.amount == amount
        if not self.hot:  # a hot account's entry comes before the debits the journal has yet to post
            assert made.result.entry.balance_after == made.result.balance
        self.grants.append((key, args))

    @rule(amount=amounts, wait=waits, to_floor=st.sampled_from([None, None, 0, 1]))
    def debit(self, amount: int, wait: int, to_floor: int | None = None) -> None:
        """``to_floor``: 0 spends exactly down to the floor, 1 asks for one credit more."""
        m = self.model
        m.advance(wait)
        key = self.key("d")
        m.guarded_write()
        if to_floor is not None:
            amount = min(max(1, m.available - m.hard_limit + to_floor), MAX_AMOUNT)
        if m.available - amount < m.hard_limit:
            with pytest.raises(ledger.InsufficientCredits):
                ledger.debit(ACCOUNT, amount, operation="render", idempotency_key=key, now=self.now())
            return
        result = ledger.debit(ACCOUNT, amount, operation="render", idempotency_key=key, now=self.now())
        m.consume(amount)
        m.seq += 1
        m.wrote()
        assert not result.replayed
        assert (result.entry.type, result.entry.amount) == ("consumption", -amount)
        if self.hot:  # numbered when the journal posts it; the figures are the account's as posted
            assert result.entry.seq is None and result.balance >= m.balance
        else:
            assert (result.balance, result.available) == (m.balance, m.available)
            assert result.available >= m.hard_limit
            assert result.entry.balance_after == m.balance
        self.debits.append((key, amount, result.entry.id, result.entry.balance_after))

    @rule(
        batch=st.lists(amounts, min_size=1, max_size=6),
        wait=waits,
        pick=st.one_of(st.none(), st.integers(0, 10**6)),
        stranger=st.booleans(),
        invalid=st.booleans(),
    )
    def debit_batch(
        self, batch: list[int], wait: int, pick: int | None, stranger: bool, invalid: bool
    ) -> None:
        """A batch of usage events: new ones in order, maybe a key already applied (``pick``), an event for
        an account without credits and an invalid one; each gets its own result, in request order."""
        m = self.model
        m.advance(wait)
        events: list[dict] = []
        expected: list[tuple] = []
        for amount in batch:
            key = self.key("b")
            events.append(
                {"account_id": ACCOUNT, "amount": amount, "operation": "render", "idempotency_key": key}
            )
            expected.append(("new", key, amount))
        if pick is not None and self.debits:
            key, amount, entry_id, balance_after = self.debits[pick % len(self.debits)]
            self.journal.pump()  # the first result is recorded by the journal
            position = pick % (len(events) + 1)
            events.insert(
                position,
                {"account_id": ACCOUNT, "amount": amount, "operation": "render", "idempotency_key": key},
            )
            expected.insert(position, ("duplicate", entry_id, amount, balance_after))
        if stranger:
            tally("a batch with another account's refused event")
            events.insert(
                0, {"account_id": "stranger", "amount": 1, "operation": "x", "idempotency_key": "s"}
            )
            expected.insert(0, ("stranger",))
        if invalid:
            events.insert(
                1, {"account_id": ACCOUNT, "amount": 0, "operation": "render", "idempotency_key": "z"}
            )
            expected.insert(1, ("invalid",))
        m.guarded_write()  # the account has valid events: its first write settles what is due
        results = ledger.debit_many(events, now=self.now())
        assert len(results) == len(events)
        chunk = debit_many_module.CHUNK
        mine = [i for i, e in enumerate(expected) if e[0] in ("new", "duplicate")]
        for start in range(0, len(mine), chunk):
            applied = False
            for i in mine[start : start + chunk]:
                kind, result = expected[i], results[i]
                if kind[0] == "duplicate":
                    assert result.status == "duplicate" and result.result is not None
                    entry = result.result.entry
                    assert (entry.id, entry.amount) == (kind[1], -kind[2])
                    assert entry.balance_after == kind[3] or (kind[3] is None and entry.seq is not None)
                    continue
                amount = kind[2]
                if m.available - amount < m.hard_limit:
                    assert result.status == "insufficient_credits", (kind, result)
                    assert result.error is not None
                    assert (result.error.details["available"], result.error.details["requested"]) == (
                        m.available,
                        amount,
                    )
                    continue
                assert result.status == "accepted", (kind, result, m.available, m.hard_limit)
                assert result.result is not None
                m.consume(amount)
                m.seq += 1
                applied = True
                entry = result.result.entry
                assert (entry.type, entry.amount) == ("consumption", -amount)
                assert entry.balance_after == (None if self.hot else m.balance)
                self.debits.append((kind[1], amount, entry.id, entry.balance_after))
            if applied:
                tally("a batch applied")
                m.wrote()
        for i, kind in enumerate(expected):
            if kind[0] == "stranger":
                assert results[i].status == "insufficient_credits"
            elif kind[0] == "invalid":
                assert results[i].status == "invalid"
        last = max((i for i in mine if results[i].status == "accepted"), default=None)
        if last is not None and not self.hot:
            result = results[last].result
            assert result is not None and (result.balance, result.available) == (m.balance, m.available)

    @rule(amount=amounts, seconds=hold_seconds, wait=waits)
    def place_hold(self, amount: int, seconds: int, wait: int) -> None:
        m = self.model
        m.advance(wait)
        key = self.key("h")
        m.guarded_write()
        if m.available - amount < m.hard_limit:
            with pytest.raises(ledger.InsufficientCredits):
                ledger.place_hold(ACCOUNT, amount, key, expires_in_seconds=seconds, now=self.now())
            return
        hold, replayed = ledger.place_hold(ACCOUNT, amount, key, expires_in_seconds=seconds, now=self.now())
        assert not replayed
        assert (hold.status, hold.amount) == ("open", amount)
        m.holds[hold.hold_id] = ModelHold(hold.hold_id, amount, m.now + seconds)
        m.lower_due(m.now + seconds)
        m.seq += 1
        m.wrote()
        assert ledger.get_hold(ACCOUNT, hold.hold_id, now=self.now()).expires_at == at(m.now + seconds)

    @precondition(lambda self: self.model.holds)
    @rule(pick=st.integers(0, 10**6), amount=st.one_of(st.none(), amounts), wait=waits)
    def capture(self, pick: int, amount: int | None, wait: int) -> None:
        m = self.model
        m.advance(wait)
        hold = list(m.holds.values())[pick % len(m.holds)]
        taking = hold.amount if amount is None else amount

        def call() -> CaptureResult:
            return ledger.capture_hold(ACCOUNT, hold.id, amount, now=self.now())

        if hold.status == "expired":
            with pytest.raises(ledger.HoldExpired):
                call()
            return
        if hold.status == "captured" and hold.captured == taking:
            before = m.seq
            result = call()
            assert result.result.replayed and result.hold.captured == taking
            assert m.seq == before
            return
        if hold.status != "open":
            with pytest.raises(ledger.HoldNotOpen) as refused:
                call()
            assert type(refused.value) is ledger.HoldNotOpen
            return
        if taking > hold.amount:
            with pytest.raises(ledger.CaptureExceedsHold):
                call()
            return
        m.guarded_write()
        if m.available + hold.amount - taking < m.hard_limit:
            with pytest.raises(ledger.InsufficientCredits):
                call()
            return
        result = call()
        hold.status, hold.captured = "captured", taking
        m.consume(taking)
        m.seq += 1
        m.wrote()
        assert (result.hold.status, result.hold.captured, result.hold.released) == (
            "captured",
            taking,
            hold.amount - taking,
        )
        assert not result.result.replayed
        assert (result.result.balance, result.result.available) == (m.balance, m.available)
        assert result.result.entry.amount == -taking

    @precondition(lambda self: self.model.holds)
    @rule(pick=st.integers(0, 10**6))
    def release(self, pick: int) -> None:
        m = self.model
        hold = list(m.holds.values())[pick % len(m.holds)]

        def call() -> CaptureResult:
            return ledger.release_hold(ACCOUNT, hold.id, now=self.now())

        if hold.status == "expired":
            with pytest.raises(ledger.HoldExpired):
                call()
        elif hold.status == "captured":
            with pytest.raises(ledger.HoldNotOpen) as refused:
                call()
            assert type(refused.value) is ledger.HoldNotOpen
        elif hold.status == "released":
            before = m.seq
            assert call().result.replayed
            assert m.seq == before
        else:
            result = call()
            hold.status = "released"
            m.seq += 1
            m.wrote()
            assert (result.hold.status, result.hold.released) == ("released", hold.amount)
            assert result.result.available == m.available + m.unswept_expired - m.unswept_released

    @rule()
    def sweep(self) -> None:
        settled = ledger.settle_due(ACCOUNT, now=self.now())
        expected = self.model.ledger_settles()
        assert (settled.expired, settled.released) == expected

    @rule()
    def scheduled_sweep(self) -> None:
        """The sweep function, as the schedule runs it: it finds the account through the due index."""
        event = {
            "version": "0",
            "id": "sweep",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        due = self.model.is_due()
        report = invoke("expiry_sweep", event, LambdaContext(remaining_ms=300_000))
        expected = self.model.ledger_settles() if due else (0, 0)
        assert (report["expired"], report["released"], report["accounts"]) == (*expected, int(due))
        assert (report["failed"], report["complete"]) == (0, True)

    @rule(hard_limit=hard_limits, threshold=st.integers(0, 500))
    def set_limits(self, hard_limit: int, threshold: int) -> None:
        limits = ledger.set_limits(ACCOUNT, threshold, hard_limit, allow_overdraft=True)
        assert (limits.hard_limit, limits.low_balance_threshold) == (hard_limit, threshold)
        self.model.hard_limit, self.model.threshold = hard_limit, threshold
        self.model.wrote()

    @precondition(lambda self: self.debits)
    @rule(pick=st.integers(0, 10**6), conflict=st.booleans())
    def retry_debit(self, pick: int, conflict: bool) -> None:
        m = self.model
        key, amount, entry_id, balance_after = self.debits[pick % len(self.debits)]
        m.guarded_write()
        before = m.seq
        if conflict:
            with pytest.raises(ledger.IdempotencyConflict):
                ledger.debit(ACCOUNT, amount, operation="upscale", idempotency_key=key, now=self.now())
        else:
            self.journal.pump()  # the first result is recorded by the journal
            result = ledger.debit(ACCOUNT, amount, operation="render", idempotency_key=key, now=self.now())
            assert result.replayed
            assert (result.entry.id, result.entry.amount) == (entry_id, -amount)
            # a hot account's debit learns its place from the journal: by now it has one
            assert result.entry.balance_after == balance_after or (
                balance_after is None and result.entry.seq is not None
            )
            assert (result.balance, result.available) == (m.balance, m.available)
        assert ledger.balance_card(ACCOUNT, now=self.now()).account.seq == before

    @precondition(lambda self: self.grants)
    @rule(pick=st.integers(0, 10**6), conflict=st.booleans())
    def retry_grant(self, pick: int, conflict: bool) -> None:
        m = self.model
        key, args = self.grants[pick % len(self.grants)]
        if args["expires_at"] is not None and args["expires_at"] <= self.now():
            return  # a grant cannot be (re)made with an expiry in the past
        before = (m.seq, m.balance + m.unswept_expired)
        if conflict:
            with pytest.raises(ledger.IdempotencyConflict):
                ledger.grant(ACCOUNT, idempotency_key=key, now=self.now(), description="another", **args)
        else:
            made = ledger.grant(ACCOUNT, idempotency_key=key, now=self.now(), **args)
            assert made.result.replayed
            assert made.result.balance == before[1]
        card = ledger.balance_card(ACCOUNT, now=self.now())
        assert (card.account.seq, card.account.balance + m.unswept_expired) == before

    # what must hold after every step

    @invariant()
    def figures_match_the_model(self) -> None:
        """The balance card shows the account as it is now, expiries applied whether written yet or not."""
        m = self.model
        card = ledger.balance_card(ACCOUNT, now=self.now())
        account = card.account
        assert (account.balance, account.held, account.available) == (m.balance, m.held, m.available)
        if self.hot:  # the card counted what is not posted yet; ``seq`` counts posted entries
            self.journal.pump()
            account = ledger.balance_card(ACCOUNT, now=self.now()).account
        assert (account.lifetime_added, account.lifetime_spent, account.lifetime_expired) == (
            m.added,
            m.spent,
            m.expired,
        )
        assert account.lifetime_added - account.lifetime_spent - account.lifetime_expired == account.balance
        assert {g.id: g.remaining for g in ledger.live_grants(ACCOUNT, now=self.now())} == m.remainders()
        assert {g.id: g.remaining for g in card.grants}.items() <= m.remainders().items()
        # the guard: at or before the next moment something falls due (exact when a settlement wrote it)
        next_due = m.next_due()
        assert next_due is None or (account.due is not None and account.due <= next_due)
        assert (account.hard_limit, account.seq) == (m.hard_limit, m.seq)
        if not m.is_due():
            assert not m.unswept and not m.unswept_released
        assert m.balance == sum(g.remaining for g in m.grants.values()) - m.debt

    @invariant()
    def history_adds_up(self) -> None:
        """The journal's entries since the last check continue the running balance exactly."""
        m = self.model
        self.journal.pump()
        # entries are written by settlements: until one runs, the stored figures include what has expired
        balance, held = m.balance + m.unswept_expired, m.held + m.unswept_released
        if m.seq > self.checked_seq:
            entries = self.newest_entries(m.seq - self.checked_seq)  # newest first
            assert [e.seq for e in entries] == list(range(m.seq, self.checked_seq, -1))
            for entry in reversed(entries):
                self.checked_balance += entry.amount
                assert entry.balance_after == self.checked_balance
                if entry.type == "expiry":
                    self.expiry_entries[entry.grant_id] = -entry.amount
            assert (entries[0].balance_after, entries[0].held_after) == (balance, held)
            self.checked_seq = m.seq
        assert self.checked_balance == balance
        assert self.expiry_entries == {g: a for g, a in m.expiries.items() if g not in m.unswept}
        self.checks += 1
        if self.checks % 8 == 0:
            self.walk_history(balance)
            # reconciliation finds nothing to report (the sweep never runs here: no expiry is late)
            assert reconcile_account(ACCOUNT, self.now(), full=True, grace=10**12).drifts == []

    @invariant()
    def notifications_match_the_model(self) -> None:
        """Low and depleted once per crossing of the stored figures; each expired remainder announced once."""
        m = self.model
        self.published += self.notifications.pump()
        kinds = [e["detail-type"] for e in self.published]
        if not self.loose_crossings:
            assert (kinds.count("credit_balance_low"), kinds.count("credit_balance_depleted")) == (
                m.lows,
                m.depletions,
            )
        expired = [e["detail"] for e in self.published if e["detail-type"] == "credits_expired"]
        assert {d["grant_id"]: d["credits"] for d in expired} == {
            g: a for g, a in m.expiries.items() if g not in m.unswept
        }
        assert len(expired) == len({d["id"] for d in expired})

    def newest_entries(self, count: int) -> list:
        """The newest ``count`` entries, newest first, in pages of at most 200 (the API's largest page)."""
        entries, cursor = [], None
        while len(entries) < count:
            page = ledger.history(ACCOUNT, limit=min(200, count - len(entries)), cursor=cursor)
            entries += page.items
            if not (cursor := page.next_cursor):
                break
        return entries

    def walk_history(self, balance: int) -> None:
        """Every page, through the cursor: the amounts add up to the balance, in seq order."""
        entries, cursor = [], None
        while True:
            page = ledger.history(ACCOUNT, limit=7, cursor=cursor)
            entries += page.items
            if not (cursor := page.next_cursor):
                break
        assert [e.seq for e in entries] == list(range(len(entries), 0, -1))
        assert len(entries) == self.model.seq
        running = 0
        for entry in reversed(entries):
            running += entry.amount
            assert entry.balance_after == running
        assert sum(e.amount for e in entries) == running == balance


TIGHT_LIMITS = [
    (expire_module, "MAX_STORED"),
    (expire_module, "MAX_EXPIRING"),
    (expire_module, "MAX_HOLDS_PER_WRITE"),
    (grant_module, "MAX_PENDING"),
    (debit_many_module, "CHUNK"),  # a batch's events one write each
]


def preload(m: Model, count: int, seed: int) -> None:
    """An account that lived long: ``count`` grants and ``count`` open holds written directly as the ledger
    lays them out (a grant item each, a hold item and its expiry-order item each), with the two history
    entries that add them up, so every rule of the run meets an account of that size."""
    rng = random.Random(seed)
    pk = ledger_table.account_pk(ACCOUNT)
    items: list[dict] = []
    grants, holds = [], []
    for n in range(count):
        expires = None if n % 3 == 0 else m.now + rng.randint(60, 6 * 86400)
        grant = ModelGrant(
            id=f"grt_{n:024x}",
            remaining=rng.randint(1, 5),
            source=rng.choice(SOURCES),
            priority=rng.choice([1, 2, DEFAULT_PRIORITY, 500]),
            created_at=(m.now - 86400) * 1000 + n,
            expires_at=expires,
        )
        grants.append(grant)
        items.append(
            grant_item(
                ACCOUNT,
                Grant(
                    id=grant.id,
                    amount=grant.remaining,
                    remaining=grant.remaining,
                    source=grant.source,
                    priority=grant.priority,
                    created_at=grant.created_at,
                    expires_at=expires,
                ),
            )
        )
        hold = ModelHold(f"hold_{n:024x}", rng.randint(1, 3), m.now + rng.randint(60, 2 * 86400))
        holds.append(hold)
        items.append(
            {
                "pk": pk,
                "sk": ledger_table.hold_sk(hold.id),
                "hold_id": hold.id,
                "account_id": ACCOUNT,
                "amount": hold.amount,
                "expires_at": hold.expires_at,
                "status": "open",
                "created_at": "2025-12-31T00:00:00.000Z",
                "request_hash": "preloaded",
            }
        )
        items.append(hold_expiry_item(ACCOUNT, hold.id, hold.amount, hold.expires_at))
    added, held = sum(g.remaining for g in grants), sum(h.amount for h in holds)
    moments = [g.expires_at for g in grants if g.expires_at] + [h.expires_at for h in holds]
    last = [
        {
            "id": "ent_preload_grants",
            "type": "grant",
            "amount": added,
            "created_at": "2025-12-31T00:00:00.000Z",
        },
        {
            "id": "ent_preload_holds",
            "type": "hold",
            "amount": 0,
            "held_delta": held,
            "created_at": "2025-12-31T00:00:00.000Z",
        },
    ]
    items.append(
        {
            "pk": pk,
            "sk": ledger_table.ACCOUNT_SK,
            "balance": added,
            "held": held,
            "spendable": added - held,
            "seq": 2,
            "lifetime_added": added,
            "prios": {g.priority for g in grants},
            "grant_items": count,
            "arrived": count,
            "due": min(moments),
            "due_pk": ledger_table.DUE_PK,
            "last": last,
        }
    )
    db = ledger_table.client()
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": ledger_table.to_item(i)}} for i in items[start : start + 25]]
        db.batch_write_item(RequestItems={TABLE: batch})
    for grant in grants:
        m.grants[grant.id] = grant
    for hold in holds:
        m.holds[hold.id] = hold
    m.added, m.seq, m.due = added, 2, min(moments)
    m.stored = (added - held, m.threshold, m.hard_limit)


class LongLivedLedgerMachine(LedgerMachine):
    PRELOAD = 400


@pytest.mark.slow
@pytest.mark.deep
def test_ledger_against_the_model() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=30, deadline=None, print_blob=True),
    )


@pytest.mark.slow
@pytest.mark.deep
def test_an_account_with_hundreds_of_grants_and_holds_against_the_model() -> None:
    """The same rules on an account that already holds 400 live grants and 400 open holds (every example
    fills a table of that size, which bounds it here; tests/integration/test_account_size.py and the bench
    take accounts of 10,000 holds and 1,000 grants through the same code)."""
    run_state_machine_as_test(
        LongLivedLedgerMachine,
        settings=settings(max_examples=max(1, EXAMPLES // 8), stateful_step_count=15, deadline=None),
    )


def test_a_grant_after_an_unsettled_expiry_does_not_change_what_expired(aws: None) -> None:
    """Found by the machine above: the same operations at the same moments must not give a different balance
    depending on whether a sweep ran in between. A grant arriving in debt repays it at once, so a later grant
    cannot take the debt over from one that expired meanwhile."""
    start, later = at(START), at(START + 120)
    ledger.grant("acme", 10, "purchase", "g0", now=start)
    ledger.set_limits("acme", 0, -100, allow_overdraft=True)
    ledger.debit("acme", 50, "render", "d1", now=start)  # 40 on overdraft
    ledger.grant("acme", 100, "purchase", "g1", priority=3, expires_at=at(START + 60), now=start)
    card = ledger.balance_card("acme", now=later)  # g1 paid the 40; its other 60 expired at START + 60
    assert (card.account.balance, card.account.lifetime_expired) == (0, 60)

    ledger.grant("acme", 100, "purchase", "g2", priority=0, now=later)
    card = ledger.balance_card("acme", now=later)
    assert (card.account.balance, card.account.lifetime_expired) == (100, 60)  # was (60, 100)
    assert ledger.settle_due("acme", now=later).expired == 60  # was 100

"""The expiry sweep: exact, reads only what is due, safe to rerun or to run twice at once, stops in time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import ledger
from credits_local.functions import LambdaContext
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from ledger.domain.changes import epoch
from ledger.domain.grants import Grant
from ledger.store import table as ledger_table
from ledger.store.grants import grant_item
from ledger.usecases import expire as expire_module
from ledger.usecases.expire import settle_due
from ledger.usecases.sweep import SweepReport, sweep

START = datetime(2026, 1, 1, tzinfo=UTC)
EXPIRY = START + timedelta(days=3)
JUST_AFTER = EXPIRY + timedelta(seconds=1)


def schedule(moment: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def expiring_accounts(count: int, prefix: str = "acct") -> dict[str, int]:
    """Accounts with 100 promotional credits expiring at EXPIRY, 30 of them spent; account → expected expiry."""
    expected = {}
    for i in range(count):
        account = f"{prefix}-{i}"
        ledger.grant(account, 100, "promotional", "promo", expires_at=EXPIRY, now=START)
        ledger.grant(account, 20, "purchase", "bought", now=START)
        ledger.debit(account, 30, "render", "job", now=START)
        expected[account] = 70  # promotional credits burn first
    return expected


def expiry_entries(journal: StreamPump, accounts: list[str]) -> Counter[str]:
    journal.pump()
    return Counter(
        account
        for account in accounts
        for e in ledger.history(account, limit=200).items
        if e.type == "expiry"
    )


def test_a_debit_just_past_an_unswept_expiry_never_spends_expired_credits(aws: None) -> None:
    ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    ledger.grant("acme", 50, "purchase", "bought", now=START)
    with pytest.raises(ledger.InsufficientCredits) as refused:
        ledger.debit("acme", 51, "render", "too-much", now=JUST_AFTER)
    assert refused.value.details["available"] == 50
    result = ledger.debit("acme", 50, "render", "all-that-is-left", now=JUST_AFTER)
    assert (result.balance, result.available) == (0, 0)
    card = ledger.balance_card("acme", now=JUST_AFTER).account
    assert (card.lifetime_added, card.lifetime_spent, card.lifetime_expired) == (150, 50, 100)
    assert sweep(JUST_AFTER) == SweepReport()  # the debit settled it: nothing left for the sweep


def test_a_debit_one_second_before_the_expiry_may_still_spend_them(aws: None) -> None:
    ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    ledger.debit("acme", 100, "render", "in-time", now=EXPIRY - timedelta(seconds=1))
    assert sweep(JUST_AFTER).expired == 0


def test_the_sweep_expires_each_remainder_exactly_once_when_rerun(journal: StreamPump) -> None:
    expected = expiring_accounts(5)
    first = sweep(JUST_AFTER)
    assert (first.accounts, first.expired, first.complete) == (5, sum(expected.values()), True)
    assert sweep(JUST_AFTER) == SweepReport()
    assert sweep(JUST_AFTER + timedelta(days=1)) == SweepReport()
    assert expiry_entries(journal, list(expected)) == Counter(dict.fromkeys(expected, 1))
    for account, expired in expected.items():
        card = ledger.balance_card(account, now=JUST_AFTER).account
        assert (card.balance, card.lifetime_expired, card.due) == (20, expired, None)


def test_the_sweep_takes_now_from_the_scheduled_event(aws: None) -> None:
    expiring_accounts(2)
    early = invoke(
        "expiry_sweep", schedule(EXPIRY - timedelta(seconds=1)), LambdaContext(remaining_ms=300_000)
    )
    assert early["accounts"] == 0
    on_time = invoke("expiry_sweep", schedule(EXPIRY), LambdaContext(remaining_ms=300_000))
    assert (on_time["accounts"], on_time["expired"]) == (2, 140)


def test_a_hold_placed_while_a_settlement_reads_still_lapses(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep that read the due index before another settled the account meets a guard in the future, and
    moves it to what is next: a hold placed between its read and its write must stay behind the guard."""
    ledger.grant("acme", 100, "purchase", "bought", now=START)
    first, _ = ledger.place_hold("acme", 10, "first", expires_in_seconds=60, now=START)
    ledger.capture_hold("acme", first.hold_id, now=START + timedelta(seconds=1))  # due stays at the 60th s
    reading = expire_module.read_grants
    placed = []

    def read_then_a_hold_arrives(*args: Any, **kwargs: Any) -> Any:
        read = reading(*args, **kwargs)
        if not placed:  # the hold lapses after the guard the account has: it leaves the guard as it is
            placed.append(ledger.place_hold("acme", 20, "second", 120, now=START + timedelta(seconds=2))[0])
        return read

    monkeypatch.setattr(expire_module, "read_grants", read_then_a_hold_arrives)
    settle_due("acme", START + timedelta(seconds=2))
    lapsed = START + timedelta(seconds=123)
    assert sweep(lapsed).released == 20
    card = ledger.balance_card("acme", now=lapsed).account
    assert (card.held, card.available, card.due) == (0, 90, None)
    assert ledger.get_hold("acme", placed[0].hold_id, now=lapsed).status == "expired"


@dataclass
class Countdown(LambdaContext):
    """An invocation whose remaining time drops by ``step`` every time the function asks for it."""

    step: int = 1_000

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= self.step
        return self.remaining_ms + self.step


def test_the_sweep_stops_before_the_timeout_and_the_next_run_finishes(
    journal: StreamPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPIRY_REMINDER_DAYS", "30")  # no reminder ahead: only the accounts are due
    expected = expiring_accounts(12)
    # 15 s of margin: with 20 s left and 1 s per account it settles five accounts, then stops cleanly
    first = invoke("expiry_sweep", schedule(JUST_AFTER), Countdown(remaining_ms=20_000))
    assert (first["accounts"], first["complete"]) == (5, False)
    second = invoke("expiry_sweep", schedule(JUST_AFTER), LambdaContext(remaining_ms=300_000))
    assert (second["accounts"], second["complete"]) == (7, True)
    assert first["expired"] + second["expired"] == sum(expected.values())
    assert expiry_entries(journal, list(expected)) == Counter(dict.fromkeys(expected, 1))


def test_a_failed_account_is_left_for_the_next_run_and_the_others_are_settled(journal: StreamPump) -> None:
    expected = expiring_accounts(4)
    unlucky = ledger_table.account_pk("acct-2")

    def throttle_once(params: dict[str, Any], **_: Any) -> None:
        settling = params["TransactItems"][0].get("Update", {}).get("Key", {}).get("pk", {}).get("S")
        if settling == unlucky and not throttled:
            throttled.append(settling)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "TransactWriteItems",
            )

    throttled: list[str] = []
    events = ledger_table.client().meta.events
    events.register("provide-client-params.dynamodb.TransactWriteItems", throttle_once)
    try:
        first = sweep(JUST_AFTER)
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", throttle_once)
    assert (first.accounts, first.failed, first.expired) == (3, 1, 210)
    second = sweep(JUST_AFTER)
    assert (second.accounts, second.failed, second.expired) == (1, 0, 70)
    assert expiry_entries(journal, list(expected)) == Counter(dict.fromkeys(expected, 1))


class DynamoDBCalls:
    """Counts the requests a client makes, and the items they read and write, with botocore's hooks."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items_read = 0
        self.items_written = 0

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        if model.name == "TransactWriteItems":
            self.items_written += len(params["TransactItems"])

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            self.items_read += parsed.get("ScannedCount", parsed.get("Count", 0))
        elif model.name == "GetItem" and "Item" in parsed:
            self.items_read += 1


@contextmanager
def count_calls() -> Iterator[DynamoDBCalls]:
    """Counts what the ledger's client does inside the block."""
    calls = DynamoDBCalls()
    events = ledger_table.client().meta.events
    events.register("provide-client-params.dynamodb", calls.before)
    events.register("after-call.dynamodb", calls.after)
    yield calls
    events.unregister("provide-client-params.dynamodb", calls.before)
    events.unregister("after-call.dynamodb", calls.after)


def account_items(account_id: str, due: int) -> list[dict[str, Any]]:
    """An account item with one live promotional grant of 100 expiring at ``due``, and the grant's item,
    written directly."""
    grant = Grant(
        id="grt_1",
        amount=100,
        remaining=100,
        source="promotional",
        priority=100,
        created_at=epoch(START) * 1000,
        expires_at=due,
    )
    account = {
        "pk": ledger_table.account_pk(account_id),
        "sk": ledger_table.ACCOUNT_SK,
        "balance": 100,
        "held": 0,
        "spendable": 100,
        "seq": 1,
        "unsettled": 0,
        "lifetime_added": 100,
        "prios": {100},
        "grant_items": 1,
        "arrived": 1,
        "due": due,
        "due_pk": ledger_table.DUE_PK,
        "last": [],
    }
    return [account, grant_item(account_id, grant)]


@pytest.mark.slow
def test_sweep_cost_follows_what_is_due_not_the_table(server_table: str, moto_server: str) -> None:
    """10,000 accounts, every one with a grant that expires, 10 of them due now: the sweep reads and writes
    only the 10."""
    db = boto3.client("dynamodb", endpoint_url=moto_server)
    later = epoch(EXPIRY + timedelta(days=30))
    items = [i for n in range(10) for i in account_items(f"due-{n}", epoch(EXPIRY))]
    items += [i for n in range(9_990) for i in account_items(f"later-{n}", later)]
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": ledger_table.to_item(i)}} for i in items[start : start + 25]]
        db.batch_write_item(RequestItems={server_table: batch})

    with count_calls() as counted:
        report = sweep(JUST_AFTER)
    assert (report.accounts, report.expired) == (10, 1_000)
    # per due account: its item, its grants expiring by now (the one due), then the first after them (none)
    assert counted.requests == Counter({"Query": 21, "GetItem": 10, "TransactWriteItems": 10})
    assert counted.items_read == 30  # 10 index keys + 10 account items + 10 grant items
    assert counted.items_written == 20  # each account, and its expired grant deleted


def two_sweeps_at_once(now: datetime) -> list[SweepReport]:
    barrier = threading.Barrier(2)

    def run() -> SweepReport:
        barrier.wait()
        return sweep(now)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda _: run(), range(2)))


def outbox_items(account: str) -> list[dict[str, Any]]:
    response = ledger_table.client().query(
        TableName=ledger_table.table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :n)",
        ExpressionAttributeValues=ledger_table.to_item({":pk": ledger_table.account_pk(account), ":n": "N#"}),
    )
    return response["Items"]


def test_two_sweeps_at_once_expire_and_remind_nothing_twice(server_table: str, moto_server: str) -> None:
    expected = expiring_accounts(20, prefix="busy")  # each grant has one reminder ahead: a day before
    reports = two_sweeps_at_once(EXPIRY - timedelta(hours=12))
    assert sum(r.reminders for r in reports) == 20
    assert all(len(outbox_items(account)) == 1 for account in expected)

    reports = two_sweeps_at_once(JUST_AFTER)
    assert sum(r.expired for r in reports) == sum(expected.values())
    assert sum(r.failed for r in reports) == 0
    journal = StreamPump(server_table, endpoint_url=moto_server)
    assert expiry_entries(journal, list(expected)) == Counter(dict.fromkeys(expected, 1))
    assert all(len(outbox_items(account)) == 1 for account in expected)

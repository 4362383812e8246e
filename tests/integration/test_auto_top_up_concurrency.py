"""Auto top-up under concurrency: many debits crossing the threshold at once, top-up requests delivered many
times at once, Stripe's webhook racing the function's own record of the charge, and the settings turned off
while top-ups try to start. Whatever interleaves: at most one charge at Stripe per crossing, its credits
granted exactly once, and nothing started after auto top-up was turned off.

DynamoDB, SQS and EventBridge are the single-threaded moto server (each call atomic, as in AWS); Stripe is
localstripe. The use case is called from many threads at once, as many Lambda instances would."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import boto3
import pytest
import stripe

import ledger
from credits_local.streams import StreamReader
from devkit.bus import Notifications
from devkit.http import parse
from devkit.lambdas import invoke
from devkit.stripe_events import signed_delivery
from devkit.tables import scan
from devkit.top_up import (
    TopUpQueue,
    enable,
    get_settings,
    intents_of,
    purchases,
    put_settings,
    top_up_grants,
)
from ledger.events import publisher
from ledger.events.top_up_queue import TopUpRequest
from ledger.store import table as ledger_table
from ledger.store.results import read_account
from ledger.store.schema import TOP_UP_SK
from ledger.usecases import payment, top_up
from ledger.usecases.top_up import Started, top_up_if_due

pytestmark = pytest.mark.slow

THREADS = 16
WEBHOOK_COPIES = 10
CLAIMERS = 8
DEADLOCK_GUARD = 120  # seconds a thread may wait for the others before the test fails instead of hanging


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Every call on its own thread, all released together; their results in order."""
    start = threading.Barrier(len(calls), timeout=DEADLOCK_GUARD)

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    ledger_table.client()  # one shared client, made before the threads start
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def starting(account: str, seq: int | None = None) -> Callable[[], Started]:
    """One look at the account, as a queued request (``seq``) or the safety net (no seq) makes it."""
    return lambda: top_up_if_due(account, seq)


def results(started: list[Started]) -> list[str]:
    return sorted(s.result for s in started)


def announced(account: str, kind: str) -> list[dict[str, Any]]:
    """The account's outbox items of one notification kind."""
    items = [ledger_table.from_item(i) or {} for i in scan()]
    return [
        i
        for i in items
        if i["pk"] == f"ACCOUNT#{account}" and i["sk"].startswith("N#") and i["detail_type"] == kind
    ]


def top_up_history(table_name: str, account: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every write of the account's auto top-up item, in commit order, as (old image, new image)."""
    streams = boto3.client("dynamodbstreams")
    arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    writes = []
    for records in StreamReader(streams, arn).read().values():
        for record in records:
            keys = ledger_table.from_item(record["dynamodb"]["Keys"]) or {}
            if keys == {"pk": f"ACCOUNT#{account}", "sk": TOP_UP_SK}:
                old = ledger_table.from_item(record["dynamodb"].get("OldImage")) or {}
                writes.append((old, ledger_table.from_item(record["dynamodb"].get("NewImage")) or {}))
    return writes


def assert_topped_up_once(client: stripe.StripeClient, account: str, balance: int) -> None:
    """One charge at Stripe, one purchase, one grant of it, the claim released, the balance exact."""
    [intent] = intents_of(client, account)
    assert intent["status"] == "succeeded"
    [made] = purchases(account)
    assert made["paid"] is True and made["purchase_id"] == intent["metadata"]["purchase_id"]
    [grant] = top_up_grants(account)
    assert grant.amount == made["credits"]
    assert read_account(account).balance == balance
    _, settings = get_settings(account)
    assert settings["in_flight"] is False and settings["last_result"]["status"] == "succeeded"
    [triggered] = announced(account, "credit_auto_recharge_triggered")
    assert triggered["detail"]["purchase_id"] == made["purchase_id"]


@pytest.fixture
def account() -> str:
    """An account id of this test alone: localstripe's objects outlive a test."""
    return f"acme-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def on_server(server_table: str, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every AWS client (the table's stream, the bus, the queue) on the moto server of the table."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("EVENT_BUS_NAME", f"notifications-{server_table}")
    publisher.reset_client()
    yield server_table
    publisher.reset_client()


@pytest.fixture
def queue(on_server: str, monkeypatch: pytest.MonkeyPatch) -> TopUpQueue:
    return TopUpQueue(monkeypatch, name=f"auto-top-up-{on_server}")


@pytest.fixture
def notifications(on_server: str) -> Notifications:
    return Notifications(on_server)


def test_sixteen_debits_across_the_threshold_charge_once_however_often_the_request_arrives(
    account: str, stripe_env: stripe.StripeClient, queue: TopUpQueue, notifications: Notifications
) -> None:
    ledger.grant(account, 1000, "promotional", "welcome")
    enable(account, threshold=500, amount=1000, payment_method_id="pm_card_visa")
    notifications.pump()

    at_once([partial(ledger.debit, account, 50, "render", f"debit-{i}") for i in range(THREADS)])
    assert read_account(account).balance == 200  # the 11th debit took it below 500
    notifications.pump()
    requests = [TopUpRequest.from_json(m["Body"]) for m in queue.receive()]
    assert len(requests) == 1  # one crossing, one request

    # each request delivered twice (SQS delivers at least once), the safety net looking at the same moment
    deliveries = [starting(r.account_id, r.seq) for r in requests * 2]
    started = at_once(deliveries + [starting(account)] * (THREADS - len(deliveries)))

    assert results(started).count("succeeded") == 1
    assert set(results(started)) <= {"succeeded", "in_flight", "none"}
    assert_topped_up_once(stripe_env, account, balance=1200)
    published = [e for e in notifications.pump() if e["detail-type"] == "credit_auto_recharge_triggered"]
    assert [e["detail"]["credits"] for e in published] == [1000]

    # every request delivered again, after the top-up: nothing more
    assert results(at_once([starting(r.account_id, r.seq) for r in requests * 2])) == ["none", "none"]
    assert len(intents_of(stripe_env, account)) == 1


def test_sixteen_looks_at_an_account_below_its_threshold_start_one_top_up(
    account: str, on_server: str, stripe_env: stripe.StripeClient
) -> None:
    ledger.grant(account, 50, "promotional", "welcome")
    enable(account, threshold=100, amount=1000, payment_method_id="pm_card_visa")

    started = at_once([starting(account)] * THREADS)

    assert results(started).count("succeeded") == 1
    assert len({s.purchase_id for s in started if s.purchase_id}) == 1
    assert_topped_up_once(stripe_env, account, balance=1050)


def test_webhooks_racing_the_functions_own_record_grant_once(
    account: str, on_server: str, stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.grant(account, 50, "promotional", "welcome")
    enable(account, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    record, grant = top_up.record, payment.grant
    writers = WEBHOOK_COPIES + 1
    at_the_write = threading.Barrier(writers, timeout=DEADLOCK_GUARD)
    arrivals = itertools.count()
    answers: list[tuple[int, Any]] = []

    def write_together(*args: Any, **kwargs: Any) -> Any:
        """The function and every delivery have read the purchase unpaid: they write its grant at once."""
        if next(arrivals) < writers:
            at_the_write.wait()
        return grant(*args, **kwargs)

    def record_while_stripe_delivers(purchase: Any, intent: dict[str, Any], now: Any) -> Started:
        """Stripe has answered: its webhook for the charge arrives ten times while the function records it.

        The copies are one delivery's exact bytes: the HTTP resolver keeps the current request on a class
        attribute, so requests sharing this process must not differ (each Lambda instance has its own)."""
        delivery = signed_delivery(
            "payment_intent.succeeded", {**intent, "amount_received": intent["amount"]}
        )
        webhooks = [lambda: parse(invoke("stripe_webhook", delivery))] * WEBHOOK_COPIES
        own, *delivered = at_once([lambda: record(purchase, intent, now), *webhooks])
        answers.extend(delivered)
        return own

    monkeypatch.setattr(payment, "grant", write_together)
    monkeypatch.setattr(top_up, "record", record_while_stripe_delivers)
    assert top_up_if_due(account).result == "succeeded"

    assert [status for status, _ in answers] == [200] * WEBHOOK_COPIES
    said = [body["result"] for _, body in answers]
    assert said.count("credited") <= 1 and set(said) <= {"credited", "duplicate"}
    assert_topped_up_once(stripe_env, account, balance=1050)


def test_turning_auto_top_up_off_while_top_ups_start_never_starts_one_after(
    account: str, on_server: str, stripe_env: stripe.StripeClient
) -> None:
    ledger.grant(account, 50, "promotional", "welcome")
    enable(account, threshold=100, amount=1000, payment_method_id="pm_card_visa")

    *started, (status, settings) = at_once(
        [*[starting(account)] * CLAIMERS, lambda: put_settings(account, {"enabled": False})]
    )
    assert status == 200 and settings["enabled"] is False

    history = top_up_history(on_server, account)
    off = next(i for i, (_, new) in enumerate(history) if new.get("enabled") is False)
    claims = [
        i for i, (old, new) in enumerate(history) if new.get("in_flight") not in (None, old.get("in_flight"))
    ]
    assert all(i < off for i in claims)  # every top-up that started, started before auto top-up was off
    charged = intents_of(stripe_env, account)
    assert len(charged) == len(claims) <= 1
    assert results(started).count("succeeded") == len(charged)
    assert read_account(account).balance == 50 + 1000 * len(charged)  # a charge made is granted all the same
    assert len(top_up_grants(account)) == len(charged)


def test_turning_auto_top_up_off_while_a_top_up_is_charged_lets_that_one_finish_and_starts_no_other(
    account: str, on_server: str, stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.grant(account, 50, "promotional", "welcome")
    enable(account, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    charge = top_up._charge
    claimed, turned_off = threading.Event(), threading.Event()

    def charge_after_the_settings_changed(*args: Any) -> Any:
        """The top-up is claimed; auto top-up is turned off before its charge goes to Stripe."""
        claimed.set()
        turned_off.wait(DEADLOCK_GUARD)
        return charge(*args)

    monkeypatch.setattr(top_up, "_charge", charge_after_the_settings_changed)

    def turn_off() -> tuple[int, Any]:
        claimed.wait(DEADLOCK_GUARD)
        try:
            return put_settings(account, {"enabled": False})
        finally:
            turned_off.set()

    *started, (status, _) = at_once([*[starting(account)] * CLAIMERS, turn_off])

    assert status == 200
    assert results(started).count("succeeded") == 1  # the claimed top-up is charged and granted
    assert_topped_up_once(stripe_env, account, balance=1050)
    ledger.debit(account, 1000, "render", "after")  # below the threshold again, auto top-up off
    assert results(at_once([starting(account)] * CLAIMERS)) == ["none"] * CLAIMERS
    assert len(intents_of(stripe_env, account)) == 1
    _, settings = get_settings(account)
    assert (settings["enabled"], settings["in_flight"]) == (False, False)


def test_top_ups_that_decided_before_auto_top_up_was_turned_off_do_not_start(
    account: str, on_server: str, stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.grant(account, 50, "promotional", "welcome")
    enable(account, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    claim = top_up._claim
    decided = threading.Barrier(CLAIMERS + 1, timeout=DEADLOCK_GUARD)
    turned_off = threading.Event()

    def claim_after_the_settings_changed(*args: Any) -> Any:
        """Every look has seen auto top-up on and decided to start; it is turned off before any claims."""
        if not turned_off.is_set():
            decided.wait()
            turned_off.wait(DEADLOCK_GUARD)
        return claim(*args)

    monkeypatch.setattr(top_up, "_claim", claim_after_the_settings_changed)

    def turn_off() -> tuple[int, Any]:
        decided.wait()
        try:
            return put_settings(account, {"enabled": False})
        finally:
            turned_off.set()

    *started, (status, _) = at_once([*[starting(account)] * CLAIMERS, turn_off])

    assert status == 200
    assert results(started) == ["none"] * CLAIMERS
    assert intents_of(stripe_env, account) == []
    assert purchases(account) == []  # no claim committed, not even its purchase
    assert read_account(account).balance == 50
    _, settings = get_settings(account)
    assert (settings["enabled"], settings["in_flight"], settings["last_result"]) == (False, False, None)

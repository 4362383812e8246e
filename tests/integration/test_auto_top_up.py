"""Auto top-up against localstripe: the stream's crossing → the queue → an off-session charge → credits once;
failures cool down, then stop; authentication required stops at once; the safety net; no runaway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

import ledger
from devkit.bus import Notifications
from devkit.lambdas import invoke
from devkit.payments import webhook
from devkit.stripe_proxy import proxy
from devkit.tables import scan
from devkit.top_up import (
    TopUpQueue,
    enable,
    get_settings,
    intents_of,
    purchases,
    safety_net,
    top_up_grants,
)
from ledger.store import parked
from ledger.store.results import read_account
from ledger.usecases import top_up
from ledger.usecases.top_up import top_up_if_due
from tests.conftest import TABLE

pytestmark = pytest.mark.usefixtures("aws")

THREE_DS_CARD = "4000002500003155"


@pytest.fixture
def acme() -> str:
    """An account id of this test alone: localstripe's objects outlive a test."""
    return f"acme-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> TopUpQueue:
    return TopUpQueue(monkeypatch)


@pytest.fixture
def notifications() -> Notifications:
    return Notifications(TABLE)


def cross(account: str, notifications: Notifications, queue: TopUpQueue, spend: int) -> list[dict[str, Any]]:
    """A debit of ``spend``, the stream delivered to the notifications function, the queue to auto top-up.

    Returns what was published on the bus meanwhile."""
    ledger.debit(account, spend, "render", f"debit-{spend}-{len(scan())}")
    published = notifications.pump()
    assert queue.deliver().failed == []
    return published


def test_a_crossing_charges_the_saved_card_once_and_grants_the_credits_once(
    acme: str, stripe_env: stripe.StripeClient, queue: TopUpQueue, notifications: Notifications
) -> None:
    ledger.grant(acme, 500, "promotional", "welcome")
    settings = enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    assert settings["payment_method"]["brand"] == "visa" and settings["payment_method"]["last4"] == "4242"
    notifications.pump()
    assert queue.receive() == []  # turned on above the threshold: nothing to do

    published = cross(acme, notifications, queue, 450)  # 50 < 100
    assert "credit_balance_low" in [e["detail-type"] for e in published]

    [intent] = intents_of(stripe_env, acme)
    assert (intent["amount"], intent["currency"], intent["status"]) == (1000, "usd", "succeeded")
    assert intent["metadata"]["kind"] == "auto_top_up"
    account = read_account(acme)
    assert account.balance == 1050
    [grant] = [g for g in ledger.live_grants(acme) if g.source == "auto_top_up"]
    assert grant.amount == 1000
    announced = [e for e in notifications.pump() if e["detail-type"] == "credit_auto_recharge_triggered"]
    assert [(e["detail"]["credits"], e["detail"]["amount"]) for e in announced] == [(1000, 1000)]

    _, settings = get_settings(acme)
    assert settings["in_flight"] is False and settings["failures"] == 0
    assert settings["last_result"]["status"] == "succeeded"
    [made] = purchases(acme)
    assert settings["last_result"]["purchase_id"] == made["purchase_id"]
    assert made["paid"] is True and made["mode"] == "auto_top_up"

    # the same crossing again (a redelivered stream batch): no second charge
    assert top_up_if_due(acme, queue.delivered[0].seq).result == "none"
    ledger.debit(acme, 10, "render", "after")  # still above the threshold: no crossing
    notifications.pump()
    queue.deliver()
    assert len(intents_of(stripe_env, acme)) == 1
    assert read_account(acme).balance == 1040


def test_the_charge_is_off_session_on_the_saved_card_with_our_top_up_id_as_idempotency_key(
    acme: str, stripe_env: stripe.StripeClient, localstripe_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.grant(acme, 50, "promotional", "welcome")
    with proxy(localstripe_url) as recorder:
        monkeypatch.setenv("STRIPE_API_BASE", recorder.url)
        settings = enable(acme, threshold=100, amount=2000, payment_method_id="pm_card_visa")
        started = top_up_if_due(acme)
    assert started.result == "succeeded"
    [create] = recorder.to("POST", "/v1/payment_intents")
    assert create.headers["Idempotency-Key"] == started.purchase_id
    assert create.params["off_session"] == "true" and create.params["confirm"] == "true"
    assert create.params["payment_method"] == settings["payment_method"]["id"]
    assert create.params["amount"] == "2000"  # 2,000 credits at the first tier's 10.00 per 1,000
    assert read_account(acme).balance == 2050


def test_the_function_dying_after_the_charge_never_charges_twice_and_grants_once(
    acme: str, stripe_env: stripe.StripeClient, localstripe_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.grant(acme, 50, "promotional", "welcome")
    now = datetime.now(UTC)
    with proxy(localstripe_url) as recorder:
        monkeypatch.setenv("STRIPE_API_BASE", recorder.url)
        enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")

        def die(*_: Any, **__: Any) -> Any:
            raise RuntimeError("the function was stopped")

        with monkeypatch.context() as m:
            m.setattr(top_up, "record", die)
            with pytest.raises(RuntimeError):
                top_up_if_due(acme, now=now)
        assert read_account(acme).balance == 50
        assert top_up_if_due(acme, now=now).result == "in_flight"  # not yet stale: left alone

        top_up_if_due(acme, now=now + timedelta(minutes=3))  # stale: resumed with the same key
    first, again = recorder.to("POST", "/v1/payment_intents")
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"]
    assert first.params == again.params
    assert read_account(acme).balance == 1050
    assert len(top_up_grants(acme)) == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_the_webhook_and_the_charge_response_grant_once_in_either_order(
    acme: str, stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    ledger.grant(acme, 50, "promotional", "welcome")
    enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    original = top_up.record
    seen: list[dict[str, Any]] = []

    def webhook_first(purchase: Any, intent: dict[str, Any], now: datetime) -> Any:
        seen.append(intent)
        if when == "before":
            assert (
                webhook("payment_intent.succeeded", {**intent, "amount_received": intent["amount"]})[0] == 200
            )
        return original(purchase, intent, now)

    monkeypatch.setattr(top_up, "record", webhook_first)
    assert top_up_if_due(acme).result == "succeeded"
    if when == "after":
        assert (
            webhook("payment_intent.succeeded", {**seen[0], "amount_received": seen[0]["amount"]})[0] == 200
        )
    assert read_account(acme).balance == 1050
    assert len(top_up_grants(acme)) == 1
    _, settings = get_settings(acme)
    assert settings["in_flight"] is False and settings["last_result"]["status"] == "succeeded"


def test_a_declining_card_cools_down_then_stops_after_three_failures_in_a_row(
    acme: str, stripe_env: stripe.StripeClient, queue: TopUpQueue, notifications: Notifications
) -> None:
    ledger.grant(acme, 500, "promotional", "welcome")
    enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_chargeCustomerFail")
    notifications.pump()
    published = cross(acme, notifications, queue, 450)
    assert read_account(acme).balance == 50
    _, settings = get_settings(acme)
    assert settings["failures"] == 1 and settings["enabled"] is True
    assert (
        settings["last_result"]["status"] == "failed" and settings["last_result"]["code"] == "card_declined"
    )
    retry_at = datetime.fromisoformat(settings["retry_at"].replace("Z", "+00:00"))
    failed = [e for e in notifications.pump() + published if e["detail-type"] == "credit_purchase_failed"]
    assert len(failed) == 1 and failed[0]["detail"]["credits"] == 1000
    [intent] = intents_of(stripe_env, acme)  # the declined charge's PaymentIntent is named
    assert failed[0]["detail"]["payment_intent"] == intent["id"]

    assert safety_net(retry_at - timedelta(seconds=1))["started"] == 0  # cooling down
    assert len(intents_of(stripe_env, acme)) == 1
    assert safety_net(retry_at)["started"] == 1
    _, settings = get_settings(acme)
    assert settings["failures"] == 2 and settings["enabled"] is True
    third = datetime.fromisoformat(settings["retry_at"].replace("Z", "+00:00"))
    assert third - retry_at == timedelta(minutes=10)
    safety_net(third)
    _, settings = get_settings(acme)
    assert (settings["enabled"], settings["disabled_reason"], settings["failures"]) == (
        False,
        "repeated_failures",
        3,
    )
    safety_net(third + timedelta(hours=1))
    assert len(intents_of(stripe_env, acme)) == 3  # stopped: no fourth charge
    assert read_account(acme).balance == 50
    kinds = [e["detail-type"] for e in notifications.pump()]
    assert kinds.count("credit_purchase_failed") == 2


def test_a_card_that_needs_authentication_stops_auto_top_up_at_once(
    acme: str,
    stripe_env: stripe.StripeClient,
) -> None:
    method = stripe_env.v1.payment_methods.create(
        {"type": "card", "card": {"number": THREE_DS_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    ledger.grant(acme, 50, "promotional", "welcome")
    enable(acme, threshold=100, amount=1000, payment_method_id=method.id)
    assert top_up_if_due(acme).result == "failed"
    _, settings = get_settings(acme)
    assert (settings["enabled"], settings["disabled_reason"]) == (False, "authentication_required")
    assert settings["last_result"]["code"] == "authentication_required"
    [intent] = intents_of(stripe_env, acme)
    assert intent["status"] == "canceled"  # never completed later, unseen
    assert read_account(acme).balance == 50
    [made] = purchases(acme)
    assert made["failure"]["code"] == "authentication_required"


def test_the_safety_net_tops_up_an_account_whose_crossing_was_never_delivered(
    acme: str,
    stripe_env: stripe.StripeClient,
) -> None:
    ledger.grant(acme, 500, "promotional", "welcome")
    quiet = acme + "-quiet"
    ledger.grant(quiet, 500, "promotional", "welcome")
    enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    enable(quiet, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    ledger.debit(acme, 450, "render", "d1")  # the stream batch is lost: no request
    report = safety_net(datetime.now(UTC))
    assert (report["looked"], report["started"]) == (2, 1)
    assert read_account(acme).balance == 1050
    assert read_account(quiet).balance == 500
    assert safety_net(datetime.now(UTC))["started"] == 0  # topped up: nothing more
    assert len(intents_of(stripe_env, acme)) == 1


def test_usage_that_outran_a_top_up_waits_for_more_usage_never_loops(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    ledger.set_limits(acme, low_balance_threshold=0, hard_limit=-5000, allow_overdraft=True)
    enable(acme, threshold=1000, amount=1000, payment_method_id="pm_card_visa")
    ledger.debit(acme, 4000, "render", "d1")  # -4000, deep in the overdraft
    assert top_up_if_due(acme).result == "succeeded"
    assert read_account(acme).available == -3000  # still below the threshold
    assert top_up_if_due(acme).result == "none"
    assert safety_net(datetime.now(UTC))["started"] == 0  # no usage since: no second charge
    assert len(intents_of(stripe_env, acme)) == 1
    ledger.debit(acme, 10, "render", "d2")  # usage goes on
    assert safety_net(datetime.now(UTC))["started"] == 1
    assert safety_net(datetime.now(UTC))["started"] == 0
    assert len(intents_of(stripe_env, acme)) == 2


def test_a_stripe_outage_leaves_the_top_up_in_flight_and_fails_the_request_for_a_retry(
    acme: str,
    stripe_env: stripe.StripeClient,
    queue: TopUpQueue,
    notifications: Notifications,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger.grant(acme, 500, "promotional", "welcome")
    enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens
    ledger.debit(acme, 450, "render", "d1")
    notifications.pump()
    delivery = queue.deliver()
    assert len(delivery.failed) == 1  # left in the queue: delivered again after its visibility timeout
    _, settings = get_settings(acme)
    assert settings["in_flight"] is True and settings["last_result"]["status"] == "pending"
    assert read_account(acme).balance == 50
    assert intents_of(stripe_env, acme) == []


def test_the_low_balance_notice_and_auto_top_up_agree_at_the_threshold(
    acme: str, stripe_env: stripe.StripeClient, queue: TopUpQueue, notifications: Notifications
) -> None:
    ledger.grant(acme, 1000, "promotional", "welcome")
    enable(acme, threshold=500, amount=1000, payment_method_id="pm_card_visa")
    notifications.pump()
    ledger.debit(acme, 500, "render", "to-500")  # exactly 500: not below
    assert [e["detail-type"] for e in notifications.pump()] == []
    assert queue.receive() == []
    assert ledger.balance_card(acme).low_balance  # the badge says at or below
    ledger.debit(acme, 1, "render", "to-499")  # below: the notice and the top-up, together
    assert [e["detail-type"] for e in notifications.pump()] == ["credit_balance_low"]
    assert len(queue.receive()) == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "",
        "null",
        "[]",
        '{"account_id": 1, "seq": 1}',
        '{"account_id": "acme", "seq": "1"}',
        '{"account_id": "a#b", "seq": 1}',  # no account of ours can have that id
        "[" * 100_000,
    ],
    ids=["text", "empty", "null", "list", "number-id", "text-seq", "key-id", "deep"],
)
def test_a_message_that_is_no_request_is_parked_not_retried(body: str) -> None:
    record = {"messageId": str(uuid.uuid4()), "body": body, "eventSource": "aws:sqs"}
    assert invoke("auto_top_up", {"Records": [record]}) == {"batchItemFailures": []}
    [kept] = parked.parked("top_up_queue")
    assert kept["sk"] == f"top_up_queue#{record['messageId']}"

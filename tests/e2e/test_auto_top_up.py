"""Auto top-up on the running local stack: a debit crosses the threshold, the stream function queues the
request, the auto top-up function charges localstripe off-session, and the credits and notifications arrive
once; a declining card cools down and stops after three failures; a card that needs 3D Secure stops at once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import stripe

from credits_local.localstripe_server import API_KEY
from tests.e2e.conftest import Stack

THREE_DS_CARD = "4000002500003155"


def new_account(stack: Stack, prefix: str, credits: int) -> str:
    account = f"{prefix}-{uuid.uuid4().hex[:8]}"
    granted = stack.service_call(
        "POST",
        f"/accounts/{account}/grants",
        {"amount": credits, "source": "promotional", "idempotency_key": "welcome"},
    )
    assert granted.status == 201, granted.body
    return account


def turn_on(stack: Stack, account: str, payment_method_id: str) -> dict[str, Any]:
    body = {"enabled": True, "threshold": 100, "amount": 1000, "payment_method_id": payment_method_id}
    reply = stack.account("PUT", f"/accounts/{account}/auto-top-up", stack.token(account), body)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def debit(stack: Stack, account: str, amount: int) -> None:
    reply = stack.service_call(
        "POST",
        f"/accounts/{account}/usage",
        {"amount": amount, "operation": "render", "idempotency_key": uuid.uuid4().hex},
    )
    assert reply.status == 201, reply.body


def settings(stack: Stack, account: str) -> dict[str, Any]:
    return dict(stack.account("GET", f"/accounts/{account}/auto-top-up", stack.token(account)).body)


def wait_until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def bus_events(stack: Stack, account: str, kind: str) -> list[dict[str, Any]]:
    events = stack.request("GET", "/_local/events").body["events"]
    return [e for e in events if e["detail-type"] == kind and e["detail"].get("account_id") == account]


def intents(stack: Stack, account: str) -> list[Any]:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stack.running.stripe_url})
    every = client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    return [i for i in every if i.to_dict().get("metadata", {}).get("account_id") == account]


def test_a_crossing_charges_the_saved_card_once_and_the_credits_arrive_once(stack: Stack) -> None:
    account = new_account(stack, "topup-visa", 500)
    turn_on(stack, account, "pm_card_visa")
    debit(stack, account, 450)  # 50 < 100

    announced = wait_until(lambda: bus_events(stack, account, "credit_auto_recharge_triggered"))
    assert [(e["detail"]["credits"], e["detail"]["amount"]) for e in announced] == [(1000, 1000)]
    card = stack.account("GET", f"/accounts/{account}/balance", stack.token(account)).body
    assert card["balance"] == 1050
    [intent] = intents(stack, account)
    assert intent.status == "succeeded"
    # localstripe's own payment_intent.succeeded webhook arrives a second later: it changes nothing
    assert stack.wait_for_log("POST /webhooks/stripe 200")
    time.sleep(1.5)
    history = stack.history(account, 3)
    assert [e["type"] for e in history].count("auto_top_up") == 1
    assert stack.account("GET", f"/accounts/{account}/balance", stack.token(account)).body["balance"] == 1050
    assert len(bus_events(stack, account, "credit_auto_recharge_triggered")) == 1
    assert settings(stack, account)["last_result"]["status"] == "succeeded"


def test_a_declining_card_cools_down_and_stops_after_three_failures(stack: Stack) -> None:
    account = new_account(stack, "topup-declined", 500)
    turn_on(stack, account, "pm_card_chargeCustomerFail")
    debit(stack, account, 450)

    failed = wait_until(lambda: settings(stack, account)["failures"] == 1 and settings(stack, account))
    assert failed["last_result"]["status"] == "failed" and failed["enabled"] is True
    assert wait_until(lambda: bus_events(stack, account, "credit_purchase_failed"))

    early = failed["retry_at"].replace("Z", "+00:00")
    stack.cli("trigger", "AutoTopUpFunction", "--time", _shift(early, -5))  # still cooling down
    assert settings(stack, account)["failures"] == 1
    for attempt in (2, 3):
        retry_at = settings(stack, account)["retry_at"]
        ran = json.loads(stack.cli("trigger", "AutoTopUpFunction", "--time", retry_at).stdout)
        assert ran["started"] >= 1, ran
        assert settings(stack, account)["failures"] == attempt
    stopped = settings(stack, account)
    assert (stopped["enabled"], stopped["disabled_reason"]) == (False, "repeated_failures")
    assert len(intents(stack, account)) == 3
    assert wait_until(lambda: len(bus_events(stack, account, "credit_purchase_failed")) == 3)
    card = stack.account("GET", f"/accounts/{account}/balance", stack.token(account)).body
    assert card["balance"] == 50


def test_a_card_that_needs_3d_secure_turns_auto_top_up_off(stack: Stack) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stack.running.stripe_url})
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": THREE_DS_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    account = new_account(stack, "topup-3ds", 500)
    turn_on(stack, account, method.id)
    debit(stack, account, 450)
    stopped = wait_until(lambda: not settings(stack, account)["enabled"] and settings(stack, account))
    assert stopped["disabled_reason"] == "authentication_required"
    assert stopped["last_result"]["code"] == "authentication_required"
    assert wait_until(lambda: bus_events(stack, account, "credit_purchase_failed"))
    [intent] = intents(stack, account)
    assert intent.status == "canceled"
    card = stack.account("GET", f"/accounts/{account}/balance", stack.token(account)).body
    assert card["balance"] == 50


def _shift(iso_time: str, seconds: int) -> str:
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(iso_time) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

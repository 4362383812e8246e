"""credits-local invoke, the bus's events, and pay against localstripe, on a running stack."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import stripe

from credits_local.localstripe_server import API_KEY
from tests.e2e.conftest import Stack


def test_invoke_runs_a_function_once_with_a_sample_event(stack: Stack) -> None:
    done = stack.cli("invoke", "LimitsFunction", "--event", "events/limits_get.json")
    answer = json.loads(done.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["low_balance_threshold"] == 100

    journal = stack.cli("invoke", "JournalFunction", "--event", "events/journal.json")
    assert json.loads(journal.stdout) == {"batchItemFailures": []}

    unknown = stack.cli("invoke", "NoSuchFunction", "--event", "events/balance.json", check=False)
    assert (unknown.returncode, "no function NoSuchFunction" in unknown.stderr) == (1, True)


def test_events_published_to_the_bus_are_printed_and_kept(stack: Stack) -> None:
    running = stack.running
    events = boto3.client(
        "events",
        endpoint_url=running.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    marker = uuid.uuid4().hex
    entry = {
        "EventBusName": f"{running.stack_name}-notifications",
        "Source": "prepaid-credits",
        "DetailType": "credit_balance_low",
        "Detail": json.dumps({"id": marker, "account_id": "events"}),
    }
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    deadline, kept = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        kept = [
            e
            for e in stack.request("GET", "/_local/events").body["events"]
            if e["detail"].get("id") == marker
        ]
        if kept:
            break
        time.sleep(0.1)
    [event] = kept
    assert (event["source"], event["detail-type"], event["detail"]["account_id"]) == (
        "prepaid-credits",
        "credit_balance_low",
        "events",
    )
    # the line is printed once the event is kept, and read from the stack's stdout by another thread
    printed: list[dict[str, Any]] = []
    while not printed and time.monotonic() < deadline:
        printed = [json.loads(line) for line in list(stack.stdout_lines) if marker in line]
        time.sleep(0.05)
    assert printed == [event]


def purchase(stack: Stack, account: str, credits: int) -> dict[str, Any]:
    made = stack.account("POST", f"/accounts/{account}/purchases", stack.token(account), {"credits": credits})
    assert made.status == 201, made.body
    return dict(made.body)


def purchase_status(
    stack: Stack, account: str, purchase_id: str, expected: str, timeout: float = 30.0
) -> str:
    """The purchase's status once it is ``expected`` (localstripe posts the webhook a second after paying)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = stack.account("GET", f"/accounts/{account}/purchases/{purchase_id}", stack.token(account))
        assert reply.status == 200, reply.body
        if reply.body["status"] == expected or time.monotonic() > deadline:
            return str(reply.body["status"])
        time.sleep(0.2)


def test_pay_credits_a_purchase_through_localstripe_and_the_signed_webhook(stack: Stack) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stack.running.stripe_url})
    bought = purchase(stack, "payer", 500)
    assert bought["status"] == "pending"

    paid = stack.cli("pay", bought["purchase_id"])
    assert "succeeded" in paid.stdout
    assert purchase_status(stack, "payer", bought["purchase_id"], "succeeded") == "succeeded"
    card = stack.account("GET", "/accounts/payer/balance", stack.token("payer")).body
    assert (card["balance"], card["lifetime_added"]) == (500, 500)
    assert stack.wait_for_log("POST /webhooks/stripe 200")

    again = stack.cli("pay", bought["purchase_id"], check=False)
    assert (again.returncode, "succeeded, not awaiting payment" in again.stderr) == (1, True)
    unknown = stack.cli("pay", "pur_unknown", check=False)
    assert (unknown.returncode, "metadata.purchase_id = pur_unknown" in unknown.stderr) == (1, True)

    declined = purchase(stack, "payer", 300)
    assert (
        "declined (card_declined)" in stack.cli("pay", declined["purchase_id"], "--card", "declined").stdout
    )
    assert purchase_status(stack, "payer", declined["purchase_id"], "failed") == "failed"

    secure = purchase(stack, "payer", 200)
    done = stack.cli("pay", secure["purchase_id"], "--card", "3ds").stdout
    assert "requires_action" in done and "succeeded" in done
    assert purchase_status(stack, "payer", secure["purchase_id"], "succeeded") == "succeeded"
    intents = [i for i in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()]
    assert {i.metadata["purchase_id"]: i.status for i in intents if i.metadata["account_id"] == "payer"} == {
        bought["purchase_id"]: "succeeded",
        declined["purchase_id"]: "requires_payment_method",
        secure["purchase_id"]: "succeeded",
    }
    card = stack.account("GET", "/accounts/payer/balance", stack.token("payer")).body
    assert card["balance"] == 700

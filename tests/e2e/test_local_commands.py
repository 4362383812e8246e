"""credits-local invoke, the bus's events, and pay against localstripe, on a running stack."""

from __future__ import annotations

import json
import time
import uuid

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
    printed = [json.loads(line) for line in stack.stdout_lines if marker in line]
    assert printed == [event]


def test_pay_confirms_the_purchase_in_localstripe_and_the_webhook_reaches_the_gateway(stack: Stack) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stack.running.stripe_url})
    purchases = {}
    for card in ("visa", "declined", "3ds"):
        purchase_id = f"pur_{card}_{uuid.uuid4().hex[:8]}"
        metadata = {"account_id": "payer", "purchase_id": purchase_id, "credits": "500"}
        intent = client.v1.payment_intents.create({"amount": 500, "currency": "usd", "metadata": metadata})
        purchases[card] = (purchase_id, intent.id)

    paid = stack.cli("pay", purchases["visa"][0])
    assert f"{purchases['visa'][1]}: visa card" in paid.stdout and "succeeded" in paid.stdout
    assert client.v1.payment_intents.retrieve(purchases["visa"][1]).status == "succeeded"
    assert stack.wait_for_log("POST /webhooks/stripe ")  # localstripe posted the signed event to the gateway

    declined = stack.cli("pay", purchases["declined"][0], "--card", "declined")
    assert "declined (card_declined)" in declined.stdout
    assert client.v1.payment_intents.retrieve(purchases["declined"][1]).status == "requires_payment_method"

    secure = stack.cli("pay", purchases["3ds"][0], "--card", "3ds")
    assert "requires_action" in secure.stdout and "succeeded" in secure.stdout
    assert client.v1.payment_intents.retrieve(purchases["3ds"][1]).status == "succeeded"

    again = stack.cli("pay", purchases["visa"][0], check=False)
    assert (again.returncode, "succeeded, not awaiting payment" in again.stderr) == (1, True)
    unknown = stack.cli("pay", "pur_unknown", check=False)
    assert (unknown.returncode, "metadata.purchase_id = pur_unknown" in unknown.stderr) == (1, True)

"""Checkout purchases and the billing portal on the local stack: credits-local gives localstripe the Checkout
Sessions and Customer Portal sessions it lacks (credits_local/stripe_checkout.py)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import stripe

from credits_local.localstripe_server import API_KEY
from tests.e2e.conftest import Stack


def _stripe(stack: Stack) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": stack.running.stripe_url}, max_network_retries=0
    )


def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_a_checkout_purchase_is_paid_and_announced_with_checkout_session_completed(stack: Stack) -> None:
    account = f"checkout-{uuid.uuid4().hex[:8]}"
    token = stack.token(account)
    created = stack.account(
        "POST",
        f"/accounts/{account}/purchases",
        token,
        {
            "credits": 1500,
            "mode": "checkout",
            "return_url": "http://127.0.0.1:9/done?session={CHECKOUT_SESSION_ID}",
        },
    )
    assert created.status == 201, created.body
    purchase = created.body
    assert purchase["checkout_session_id"].startswith("cs_test_")
    assert purchase["client_secret"].startswith(purchase["checkout_session_id"] + "_secret_")
    client = _stripe(stack)
    session = client.v1.checkout.sessions.retrieve(purchase["checkout_session_id"]).to_dict()
    assert (session["status"], session["payment_status"], session["amount_total"]) == ("open", "unpaid", 1500)

    paid = stack.cli("pay", purchase["purchase_id"])
    assert "succeeded" in paid.stdout

    def credited() -> Any:
        reply = stack.account("GET", f"/accounts/{account}/purchases/{purchase['purchase_id']}", token)
        return reply.body if reply.body["status"] == "succeeded" else None

    assert _until(credited), "the purchase was not credited"
    assert stack.account("GET", f"/accounts/{account}/balance", token).body["balance"] == 1500
    session = client.v1.checkout.sessions.retrieve(purchase["checkout_session_id"]).to_dict()
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    events = client.v1.events.list({"type": "checkout.session.completed"}).to_dict()["data"]
    announced = [e for e in events if e["data"]["object"]["id"] == purchase["checkout_session_id"]]
    assert len(announced) == 1
    assert announced[0]["data"]["object"]["metadata"]["purchase_id"] == purchase["purchase_id"]


def test_the_checkout_sessions_page_pays_with_a_typed_card(stack: Stack) -> None:
    account = f"checkout-{uuid.uuid4().hex[:8]}"
    token = stack.token(account)
    purchase = stack.account(
        "POST",
        f"/accounts/{account}/purchases",
        token,
        {"package_id": "credits-1000", "mode": "checkout", "return_url": "http://127.0.0.1:9/done"},
    ).body
    session_id, secret = purchase["checkout_session_id"], purchase["client_secret"]
    base = f"{stack.running.stripe_url}/_local/checkout/{session_id}"
    with urllib.request.urlopen(f"{base}?client_secret={secret}", timeout=30) as page:
        assert "Card number" in page.read().decode()

    def pay(number: str) -> tuple[int, Any]:
        card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
        request = urllib.request.Request(
            base + "/pay", data=json.dumps({"client_secret": secret, "card": card}).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    status, declined = pay("4000000000000341")
    assert status == 402 and "declined" in declined["error"]["message"]
    assert pay("4242424242424242") == (200, {"status": "complete", "return_url": "http://127.0.0.1:9/done"})
    assert _until(lambda: stack.account("GET", f"/accounts/{account}/balance", token).body["balance"] == 1000)


def test_the_billing_portal_lists_the_customers_cards(stack: Stack) -> None:
    account = f"portal-{uuid.uuid4().hex[:8]}"
    token = stack.token(account)
    reply = stack.account(
        "POST", f"/accounts/{account}/billing-portal", token, {"return_url": "http://127.0.0.1:9/console"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["url"].startswith(stack.running.stripe_url + "/_local/billing_portal/bps_")
    with urllib.request.urlopen(reply.body["url"], timeout=30) as page:
        text = page.read().decode()
    assert "Payment methods" in text and "No saved card." in text
    assert 'href="http://127.0.0.1:9/console"' in text


def test_the_billing_portal_sample_event_can_be_invoked(stack: Stack) -> None:
    done = stack.cli("invoke", "BillingPortalFunction", "--event", "events/billing_portal.json")
    answer = json.loads(done.stdout)
    assert answer["statusCode"] == 201, answer
    assert "/_local/billing_portal/bps_" in json.loads(answer["body"])["url"]

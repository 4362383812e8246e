"""Refunds through the local stack: the charge refunded at localstripe, and Stripe's charge.refunded event
(which localstripe does not send) posted to the gateway signed with the stack's webhook secret."""

from __future__ import annotations

import json

import stripe

from credits_local.localstripe_server import API_KEY
from devkit.stripe_events import event, sign
from tests.e2e.conftest import Stack
from tests.e2e.test_local_commands import purchase, purchase_status


def refunded_event(stack: Stack, client: stripe.StripeClient, charge_id: str) -> int:
    """Post charge.refunded with the charge as localstripe now reports it; the gateway's status."""
    charge = client.v1.charges.retrieve(charge_id).to_dict()
    payload = json.dumps(event("charge.refunded", charge))
    headers = {"stripe-signature": sign(payload, stack.state.webhook_secret())}
    return stack.request("POST", "/webhooks/stripe", payload.encode(), headers).status


def test_partial_and_full_refunds_claw_back_through_the_gateway(stack: Stack) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stack.running.stripe_url})
    bought = purchase(stack, "refunder", 1000)  # 1,000 credits for 1,000 cents
    stack.cli("pay", bought["purchase_id"])
    assert purchase_status(stack, "refunder", bought["purchase_id"], "succeeded") == "succeeded"
    latest = client.v1.payment_intents.retrieve(bought["payment_intent_id"]).latest_charge
    charge_id = latest if isinstance(latest, str) else latest.id  # localstripe expands it

    client.v1.refunds.create({"charge": charge_id, "amount": 250})
    assert refunded_event(stack, client, charge_id) == 200
    assert refunded_event(stack, client, charge_id) == 200  # delivered again: nothing more
    token = stack.token("refunder")
    assert stack.account("GET", "/accounts/refunder/balance", token).body["balance"] == 750

    client.v1.refunds.create({"charge": charge_id})  # the rest
    assert refunded_event(stack, client, charge_id) == 200
    card = stack.account("GET", "/accounts/refunder/balance", token).body
    assert (card["balance"], card["lifetime_clawed_back"]) == (0, 1000)
    assert purchase_status(stack, "refunder", bought["purchase_id"], "refunded") == "refunded"
    forged = stack.request("POST", "/webhooks/stripe", b"{}", {"stripe-signature": "t=1,v1=00"})
    assert (forged.status, forged.body["error"]) == (400, "invalid_signature")

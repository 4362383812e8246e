"""Purchases paid at localstripe, and their webhook deliveries: what the webhook tests start from."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import stripe

from devkit.http import owner, parse
from devkit.lambdas import call, invoke
from devkit.stripe_events import signed_delivery


def purchase(account: str, body: Any, claims: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST /accounts/{account}/purchases as the account's owner, unless other claims are given."""
    params = {"account_id": account}
    return call(
        "purchase", "POST", "/accounts/{account_id}/purchases", params, body, claims or owner(account)
    )


def get_purchase(account: str, purchase_id: str, claims: dict[str, str] | None = None) -> tuple[int, Any]:
    route, params = (
        "/accounts/{account_id}/purchases/{purchase_id}",
        {"account_id": account, "purchase_id": purchase_id},
    )
    return call("purchase", "GET", route, params, claims=claims or owner(account))


def start_purchase(account: str, **body: Any) -> dict[str, Any]:
    status, made = purchase(account, body)
    assert status == 201, made
    return dict(made)


def read_purchase(account: str, purchase_id: str) -> dict[str, Any]:
    return dict(get_purchase(account, purchase_id)[1])


def pay(client: stripe.StripeClient, payment_intent_id: str, card: str = "pm_card_visa") -> dict[str, Any]:
    """Confirm the PaymentIntent at localstripe with a test card; its state as Stripe reports it after."""
    client.v1.payment_intents.update(payment_intent_id, {"payment_method": card})
    with suppress(stripe.CardError):  # a declined card: the intent now carries last_payment_error
        client.v1.payment_intents.confirm(payment_intent_id)
    intent = client.v1.payment_intents.retrieve(payment_intent_id).to_dict()
    if intent["status"] == "succeeded":  # Stripe reports what it received; localstripe leaves it out
        intent.setdefault("amount_received", intent["amount"])
    return dict(intent)


def webhook(event_type: str, obj: dict[str, Any], created: int | None = None) -> tuple[int, Any]:
    return parse(invoke("stripe_webhook", signed_delivery(event_type, obj, created)))

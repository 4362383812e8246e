"""``credits-local pay``: pay a pending purchase's PaymentIntent in localstripe with a test card.

The purchase's PaymentIntent carries metadata.purchase_id. Confirming it makes localstripe post the signed
``payment_intent.succeeded`` (or ``payment_intent.payment_failed``) webhook to the gateway, the path
credits take in production."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import stripe

from credits_local.localstripe_server import API_KEY

# A card that needs 3D Secure: confirming leaves the PaymentIntent in requires_action.
THREE_D_SECURE_CARD = "4000002760003184"
CARDS = ("visa", "declined", "3ds")


class PaymentError(RuntimeError):
    """The purchase cannot be paid (no such PaymentIntent, not awaiting payment)."""


@dataclass
class Paid:
    payment_intent: str
    status: str
    steps: list[str]


def _client(stripe_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": stripe_url}, max_network_retries=0)


def find_payment_intent(client: stripe.StripeClient, purchase_id: str) -> Any:
    for intent in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
        if (intent.to_dict().get("metadata") or {}).get("purchase_id") == purchase_id:
            return intent
    raise PaymentError(f"no PaymentIntent in localstripe has metadata.purchase_id = {purchase_id}")


def _authenticate(stripe_url: str, intent: Any) -> None:
    """Complete the 3D Secure challenge as the customer would (localstripe's own endpoint)."""
    data = urllib.parse.urlencode({"client_secret": intent["client_secret"], "success": "true"}).encode()
    request = urllib.request.Request(
        f"{stripe_url}/v1/payment_intents/{intent['id']}/_authenticate",
        data=data,
        headers={"Authorization": f"Bearer {API_KEY}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        json.load(response)


def pay(stripe_url: str, purchase_id: str, card: str = "visa") -> Paid:
    if card not in CARDS:
        raise PaymentError(f"--card must be one of {', '.join(CARDS)}")
    client = _client(stripe_url)
    intent = find_payment_intent(client, purchase_id)
    if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise PaymentError(f"{intent['id']} is {intent['status']}, not awaiting payment")
    if card == "3ds":
        method = client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": THREE_D_SECURE_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )["id"]
    else:
        method = "pm_card_visa" if card == "visa" else "pm_card_chargeCustomerFail"
    client.v1.payment_intents.update(intent["id"], {"payment_method": method})
    steps = [f"{intent['id']}: {card} card ({method})"]
    try:
        confirmed = client.v1.payment_intents.confirm(intent["id"])
    except stripe.CardError as declined:
        steps.append(f"declined ({declined.code}): localstripe posts payment_intent.payment_failed")
        return Paid(intent["id"], "requires_payment_method", steps)
    if confirmed["status"] == "requires_action":
        steps.append("requires_action: completing the 3D Secure challenge")
        _authenticate(stripe_url, confirmed)
        confirmed = client.v1.payment_intents.retrieve(intent["id"])
    if confirmed["status"] == "succeeded":
        steps.append("succeeded: localstripe posts payment_intent.succeeded to the webhook")
    else:
        steps.append(confirmed["status"])
    return Paid(intent["id"], confirmed["status"], steps)

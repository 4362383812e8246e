"""Stripe webhook deliveries as Stripe sends them: real-shaped objects of the current API version, wrapped
in an event and signed with the stripe library's own signature scheme."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import stripe

from devkit.http import http_event

WEBHOOK_SECRET = "whsec_test_" + "0" * 24


def sign(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    signature = stripe.WebhookSignature._compute_signature(f"{at}.{payload}", secret)
    return f"t={at},v1={signature}"


def event(event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def delivery(payload: str, signature: str | None) -> dict[str, Any]:
    """The API Gateway event of one webhook delivery (the raw body, the Stripe-Signature header)."""
    headers = {"stripe-signature": signature} if signature is not None else {}
    return http_event("POST", "/webhooks/stripe", {}, raw_body=payload, headers=headers)


def signed_delivery(event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    payload = json.dumps(event(event_type, obj, created))
    return delivery(payload, sign(payload))


def charge(intent: dict[str, Any], amount_refunded: int = 0) -> dict[str, Any]:
    amount = intent["amount"]
    return {
        "id": "ch_" + intent["id"].removeprefix("pi_"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "balance_transaction": "txn_" + secrets.token_hex(8),
        "captured": True,
        "created": int(time.time()),
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "disputed": False,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": intent.get("payment_method"),
        "refunded": amount_refunded >= amount,
        "status": "succeeded",
    }


def dispute(
    intent: dict[str, Any], amount: int | None = None, status: str = "needs_response"
) -> dict[str, Any]:
    return {
        "id": "dp_" + secrets.token_hex(12),
        "object": "dispute",
        "amount": intent["amount"] if amount is None else amount,
        "balance_transactions": [],
        "charge": "ch_" + intent["id"].removeprefix("pi_"),
        "created": int(time.time()),
        "currency": intent["currency"],
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": intent["id"],
        "reason": "fraudulent",
        "status": status,
    }


def checkout_session(
    session_id: str, purchase: dict[str, Any], payment_status: str = "paid", amount: int | None = None
) -> dict[str, Any]:
    metadata = {
        "account_id": purchase["account_id"],
        "purchase_id": purchase["purchase_id"],
        "credits": str(purchase["credits"]),
    }
    total = purchase["amount"] if amount is None else amount
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "client_reference_id": purchase["purchase_id"],
        "currency": purchase["currency"],
        "customer": purchase.get("customer"),
        "livemode": False,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": "pi_" + session_id.removeprefix("cs_test_")[:24],
        "payment_status": payment_status,
        "status": "complete",
        "ui_mode": "embedded",
    }

"""Stripe webhook deliveries: verify the signature on the raw body, then route each event to its outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from ledger.domain.errors import InvalidSignature
from ledger.payments import stripe_api
from ledger.usecases import payment

logger = Logger()

TOLERANCE_SECONDS = 300


def verify(payload: str, signature: str | None) -> dict[str, Any]:
    """The event, if ``signature`` is Stripe's for this exact body, made within the last 5 minutes."""
    import stripe

    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, stripe_api.webhook_secret(), tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(f"the Stripe signature does not verify: {error.user_message}") from None
    except ValueError:
        raise InvalidSignature("the body is not a Stripe event") from None
    return stripe_api.as_dict(event)


def _paid_session(obj: dict[str, Any], paid_at: datetime) -> payment.Outcome:
    if obj.get("payment_status") != "paid":  # asynchronous methods confirm later
        return payment.Outcome("ignored")
    return payment.payment_succeeded(obj, paid_at)


HANDLERS: dict[str, Callable[[dict[str, Any], datetime], payment.Outcome]] = {
    "payment_intent.succeeded": payment.payment_succeeded,
    "checkout.session.completed": _paid_session,
    "checkout.session.async_payment_succeeded": payment.payment_succeeded,
    "payment_intent.payment_failed": lambda obj, _: payment.payment_failed(obj),
    "checkout.session.async_payment_failed": lambda obj, _: payment.payment_failed(obj),
    "charge.refunded": lambda obj, _: payment.charge_refunded(obj),
    "charge.dispute.created": lambda obj, _: payment.dispute_opened(obj),
    "charge.dispute.closed": lambda obj, _: payment.dispute_closed(obj),
}


def handle(event: dict[str, Any]) -> payment.Outcome:
    """Act on one verified event; types we do not act on are acknowledged and ignored."""
    act = HANDLERS.get(str(event.get("type")))
    if act is None:
        return payment.Outcome("ignored")
    obj = event["data"]["object"]
    outcome = act(obj, datetime.fromtimestamp(int(event.get("created", 0)), UTC))
    logger.info(
        "stripe event handled",
        event_id=event.get("id"),
        type=event.get("type"),
        result=outcome.result,
        purchase_id=outcome.purchase_id,
        credits=outcome.credits,
    )
    return outcome

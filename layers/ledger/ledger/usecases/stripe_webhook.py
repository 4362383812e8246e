"""Stripe webhook deliveries: verify the signature on the raw body (``payments/gateway.py``), then route each
event to its outcome (``usecases/payment.py``).

A signed event we cannot act on however often it comes (a shape we cannot read, a value the ledger refuses)
answers 400 ``unreadable_event`` and is parked for an operator (``store/parked.py``). Stripe retries any
answer but a 2xx for up to three days: each retry finds the event parked already and is answered the same.
5xx is kept for failures a retry can help (DynamoDB or Stripe unavailable, an account kept busy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledger.domain.changes import digest, utcnow
from ledger.domain.errors import Busy, PaymentProviderError
from ledger.payments import gateway
from ledger.payments.event_shape import UnreadableEvent, check_envelope, check_object
from ledger.runtime.log import Logger
from ledger.store import parked
from ledger.usecases import payment

logger = Logger()


def verify(payload: str, signature: str | None) -> dict[str, Any]:
    """The event, if ``signature`` is Stripe's for this exact body, made no more than 5 minutes ago.

    Raises InvalidSignature otherwise, UnreadableEvent (parked) for a signed body that is not an event we can
    read."""
    gateway.verify_signature(payload, signature)
    try:
        event = json.loads(payload)
        return check_envelope(event)
    except (ValueError, RecursionError, UnreadableEvent) as error:
        raise _unreadable(payload, None, error) from None


def _unreadable(original: Any, event_id: Any, error: BaseException) -> UnreadableEvent:
    """Park a signed event we cannot act on, and the error that says so to Stripe (400)."""
    ident = (
        event_id
        if isinstance(event_id, str) and event_id
        else "body-" + digest(json.dumps(original, default=str))  # escapes what is not ASCII
    )
    where = parked.park("webhook", ident, original, error)
    logger.error("signed Stripe event parked: it cannot be acted on", parked=where, error=str(error))
    if isinstance(error, UnreadableEvent):
        return error
    return UnreadableEvent(f"the event cannot be acted on: {type(error).__name__}")


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


def _paid_at(created: Any, now: datetime) -> datetime:
    """When Stripe says the event happened, never later than now (a clock ahead, or a moment no date can hold);
    now when it does not say."""
    if type(created) is int and 0 < created <= now.timestamp():
        return datetime.fromtimestamp(created, UTC)
    return now


def handle(event: dict[str, Any]) -> payment.Outcome:
    """Act on one verified event; types we do not act on are acknowledged and ignored."""
    act = HANDLERS.get(str(event.get("type")))
    if act is None:
        return payment.Outcome("ignored")
    try:
        obj = check_object(event)
        outcome = act(obj, _paid_at(event.get("created"), utcnow()))
    except (Busy, PaymentProviderError):
        raise  # a retry can help
    except Exception as error:
        if parked.is_transient(error):
            raise  # AWS unreachable or asking to slow down: a retry can help
        raise _unreadable(event, event.get("id"), error) from error
    logger.info(
        "stripe event handled",
        event_id=event.get("id"),
        type=event.get("type"),
        result=outcome.result,
        purchase_id=outcome.purchase_id,
        credits=outcome.credits,
    )
    return outcome

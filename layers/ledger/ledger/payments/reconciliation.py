"""What reconciliation asks of Stripe: the payments made over a window, a payment, its charge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ledger.payments.gateway import retrieve_payment_intent
from ledger.payments.stripe_api import as_dict, client, errors


def payment_intents(start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """The PaymentIntents created in [start, end), oldest page last, as plain data."""
    import stripe

    low, high = int(start.timestamp()), int(end.timestamp())
    params: dict[str, Any] = {"limit": 100, "created": {"gte": low, "lt": high}}
    with errors():
        try:
            pages = client().v1.payment_intents.list(params)  # type: ignore[arg-type]
        except stripe.InvalidRequestError:  # a Stripe that cannot filter by time (localstripe): filter here
            pages = client().v1.payment_intents.list({"limit": 100})
        for intent in pages.auto_paging_iter():
            found = as_dict(intent)
            if low <= int(found.get("created") or 0) < high:
                yield found


def payment_intent(intent_id: str) -> dict[str, Any]:
    return retrieve_payment_intent(intent_id)


def charge_of(intent: dict[str, Any]) -> dict[str, Any] | None:
    """The intent's latest charge (retrieved when Stripe gives only its id)."""
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        return latest
    if not latest:
        return None
    with errors():
        return as_dict(client().v1.charges.retrieve(str(latest)))


def disputes_of(intent_id: str) -> list[dict[str, Any]]:
    """The disputes of a PaymentIntent's charges, as Stripe lists them."""
    with errors():
        found = client().v1.disputes.list({"payment_intent": intent_id, "limit": 100})
        return [as_dict(d) for d in found.auto_paging_iter()]

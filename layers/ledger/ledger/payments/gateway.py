"""What the ledger asks of Stripe, as named operations with plain answers.

Use cases speak to Stripe only through these; each answers with our own small values (or a PaymentIntent as
plain data, the shape Stripe's webhooks deliver it in, since the same outcome code reads both) and turns
Stripe's failures into domain errors:

- ``create_customer``: the Stripe customer of an account.
- ``create_payment_intent`` / ``create_checkout_session``: a payment for a purchase, its card saved for
  later off-session charges.
- ``charge_off_session``: an auto top-up's charge, answered (``Answered``, the PaymentIntent) or refused by
  Stripe (``Declined``, with the reason).
- ``outcome_of``: what a PaymentIntent came to: succeeded, processing, or failed (and why).
- ``retrieve_payment_intent`` / ``find_payment_intent`` / ``cancel_payment_intent``.
- ``save_card``: a payment method attached to the customer, ready for off-session charges.
- ``billing_portal_url``: a Customer Portal session for the customer.
- ``verify_signature``: that a webhook delivery is Stripe's.
- ``list_payment_intents`` / ``latest_charge`` / ``list_disputes``: what reconciliation compares with the
  ledger.

Stripe unreachable or failing is PaymentProviderError (HTTP 502); what Stripe refuses about a card the caller
chose is PaymentMethodRequired. stripe is imported only when an operation runs: only what talks to Stripe
pays for its import.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote_plus

from ledger.domain.errors import InvalidSignature, PaymentMethodRequired, PaymentProviderError
from ledger.domain.purchase import Failure
from ledger.payments.stripe_api import as_dict, call, client, errors, webhook_secret

if TYPE_CHECKING:
    import stripe

SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A PaymentIntent or Checkout Session created for a purchase: what the customer's browser needs."""

    id: str
    client_secret: str | None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """Stripe took the off-session charge: the PaymentIntent it made, as plain data."""

    intent: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Declined:
    """Stripe refused the off-session charge outright (a decline, or a payment method it cannot charge)."""

    failure: Failure
    intent: dict[str, Any]  # what Stripe named of the declined PaymentIntent: all of it, its id, or nothing


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a PaymentIntent came to. ``awaiting_customer``: it waits for the customer to authenticate, which
    an off-session charge never gets, so it is to be cancelled rather than left to complete unseen."""

    status: Literal["succeeded", "processing", "failed"]
    failure: Failure | None = None
    awaiting_customer: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """A payment method as Stripe keeps it: whose it is, and what to show of it."""

    id: str
    customer: str | None
    brand: str | None = None
    last4: str | None = None


def _id(value: str) -> str:
    """An id as a segment of a request's path, quoted as stripe's own services quote it (an id may come from a
    caller: it cannot reach another path)."""
    return quote_plus(value)


def create_customer(account_id: str) -> str:
    """A new Stripe customer for the account (one per account however often asked)."""
    with errors():
        customer = call(
            "post", "/v1/customers", {"metadata": {"account_id": account_id}}, f"customer-{account_id}"
        )
    return str(customer["id"])


def create_payment_intent(
    *,
    amount: int,
    currency: str,
    customer: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> NewPayment:
    """A PaymentIntent the customer confirms in the browser; its card is kept for off-session charges."""
    with errors():
        intent = call(
            "post",
            "/v1/payment_intents",
            {
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "setup_future_usage": "off_session",
                "description": description,
                "metadata": metadata,
            },
            idempotency_key,
        )
    return NewPayment(intent["id"], intent.get("client_secret"))


def create_checkout_session(
    *,
    amount: int,
    currency: str,
    customer: str,
    description: str,
    metadata: dict[str, str],
    return_url: str,
    reference: str,
    idempotency_key: str,
) -> NewPayment:
    """An embedded Checkout Session for one line of ``amount``; its card is kept for off-session charges."""
    with errors():
        session = call(
            "post",
            "/v1/checkout/sessions",
            {
                "mode": "payment",
                "ui_mode": "embedded",
                "customer": customer,
                "return_url": return_url,
                "client_reference_id": reference,
                "metadata": metadata,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency,
                            "unit_amount": amount,
                            "product_data": {"name": description},
                        },
                    }
                ],
                "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
            },
            idempotency_key,
        )
    return NewPayment(session["id"], session.get("client_secret"), session.get("url"))


def charge_off_session(
    *,
    amount: int,
    currency: str,
    customer: str,
    payment_method: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Answered | Declined:
    """Charge the saved card now, without the customer. The same idempotency key gets Stripe's first answer
    again instead of a second charge.

    Raises PaymentProviderError when Stripe did not answer: whether it charged is then unknown."""
    import stripe

    try:
        intent = call(
            "post",
            "/v1/payment_intents",
            {
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "payment_method": payment_method,
                "off_session": True,
                "confirm": True,
                "description": description,
                "metadata": metadata,
            },
            idempotency_key,
        )
    except (stripe.CardError, stripe.InvalidRequestError) as error:  # e.g. the saved card was detached
        return _declined(error)
    except stripe.StripeError as error:
        raise PaymentProviderError(
            f"Stripe did not answer the auto top-up charge: {error.__class__.__name__}",
            purchase_id=idempotency_key,
        ) from error
    return Answered(intent)


def _declined(error: stripe.StripeError) -> Declined:
    body: Any = error.json_body or {}
    raw: dict[str, Any] = body.get("error") or {} if isinstance(body, dict) else {}
    named = raw.get("payment_intent")  # Stripe names the declined PaymentIntent: an object, or its id
    intent: dict[str, Any] = (
        dict(named) if isinstance(named, dict) else {"id": named} if isinstance(named, str) else {}
    )
    failure = Failure(
        code=error.code or raw.get("code") or "card_declined",
        message=raw.get("message") or error.user_message or "the card was declined",
        decline_code=raw.get("decline_code"),
    )
    return Declined(failure, intent)


def outcome_of(intent: dict[str, Any]) -> Outcome:
    """What the PaymentIntent came to. A failure is Stripe's own error, if it gave one."""
    status = intent.get("status")
    if status == "succeeded":
        return Outcome("succeeded")
    if status == "processing":
        return Outcome("processing")
    error = intent.get("last_payment_error")
    if status == "requires_action" and not error:
        return Outcome(
            "failed",
            Failure("authentication_required", "the card needs the customer to authenticate this charge"),
            awaiting_customer=True,
        )
    if not isinstance(error, dict):
        return Outcome("failed")
    return Outcome("failed", Failure(error.get("code"), error.get("message"), error.get("decline_code")))


def retrieve_payment_intent(intent_id: str) -> dict[str, Any]:
    with errors():
        return call("get", f"/v1/payment_intents/{_id(intent_id)}")


def find_payment_intent(intent_id: str) -> dict[str, Any] | None:
    """The PaymentIntent, or None when Stripe does not know it (so it is none of ours)."""
    import stripe

    try:
        with errors():
            return call("get", f"/v1/payment_intents/{_id(intent_id)}")
    except PaymentProviderError as error:
        cause = error.__cause__
        if isinstance(cause, stripe.InvalidRequestError) and (
            cause.code == "resource_missing" or cause.http_status == 404
        ):
            return None
        raise


def cancel_payment_intent(intent_id: str) -> None:
    with errors():
        call("post", f"/v1/payment_intents/{_id(intent_id)}/cancel")


def save_card(payment_method_id: str, customer: str) -> Card:
    """The payment method, attached to ``customer`` unless it already belongs to a customer (which may be
    another one: the caller checks). What Stripe refuses about it is PaymentMethodRequired (HTTP 409)."""
    import stripe

    path = f"/v1/payment_methods/{_id(payment_method_id)}"
    with errors():
        try:
            found = call("get", path)
            if found.get("customer") is None:
                found = call("post", f"{path}/attach", {"customer": customer})
        except (stripe.InvalidRequestError, stripe.CardError) as error:
            raise PaymentMethodRequired(
                f"Stripe cannot save that payment method for later charges: {error.user_message or error.code}",
                stripe_code=error.code,
            ) from error
    card: dict[str, Any] = found.get("card") or {}
    owner = found.get("customer")
    return Card(str(found["id"]), str(owner) if owner else None, card.get("brand"), card.get("last4"))


def billing_portal_url(customer: str, return_url: str) -> str:
    """A Customer Portal session, where the customer updates the saved card and sees invoices."""
    with errors():
        session = call(
            "post", "/v1/billing_portal/sessions", {"customer": customer, "return_url": return_url}
        )
    return str(session["url"])


def verify_signature(payload: str, signature: str | None) -> None:
    """Raises InvalidSignature unless ``signature`` is Stripe's for this exact body, made no more than 5 minutes
    ago (stripe checks only that bound: a signature's time ahead of our clock passes)."""
    import stripe

    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    if not signature.isascii():  # stripe compares signatures with hmac.compare_digest: ASCII text only
        raise InvalidSignature("the Stripe-Signature header is not ASCII")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, webhook_secret(), tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(f"the Stripe signature does not verify: {error.user_message}") from None


def list_payment_intents(start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
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


def latest_charge(intent: dict[str, Any]) -> dict[str, Any] | None:
    """The PaymentIntent's latest charge (retrieved when Stripe gives only its id)."""
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        return latest
    if not latest:
        return None
    with errors():
        return call("get", f"/v1/charges/{_id(str(latest))}")


def list_disputes(intent_id: str) -> list[dict[str, Any]]:
    """The disputes of a PaymentIntent's charges, as Stripe lists them."""
    with errors():
        found = client().v1.disputes.list({"payment_intent": intent_id, "limit": 100})
        return [as_dict(d) for d in found.auto_paging_iter()]

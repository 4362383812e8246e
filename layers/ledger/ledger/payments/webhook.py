"""Stripe webhook signatures: a delivery is acted on only if Stripe signed this exact body, recently."""

from __future__ import annotations

from ledger.domain.errors import InvalidSignature
from ledger.payments import stripe_api

TOLERANCE_SECONDS = 300


def check_signature(payload: str, signature: str | None) -> None:
    """Raises InvalidSignature unless ``signature`` is Stripe's for this exact body, made within the last 5
    minutes."""
    import stripe

    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, stripe_api.webhook_secret(), tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(f"the Stripe signature does not verify: {error.user_message}") from None

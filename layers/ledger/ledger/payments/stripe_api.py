"""The Stripe client and the webhook secret, configured from the environment or Secrets Manager.

In AWS the secret named by STRIPE_SECRET_NAME holds ``{"api_key": ..., "webhook_secret": ...}`` and is read
through Powertools Parameters (cached for 5 minutes). STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET, when set,
take precedence (local runs and tests); STRIPE_API_BASE points the client at another API host (localstripe).
stripe is imported lazily: only the functions that talk to Stripe pay for its import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ledger.domain.errors import PaymentProviderError

if TYPE_CHECKING:
    import stripe

SECRET_MAX_AGE = 300
NETWORK_RETRIES = 2


def _setting(env_name: str, secret_key: str) -> str:
    if value := os.environ.get(env_name):
        return value
    name = os.environ.get("STRIPE_SECRET_NAME")
    if not name:
        raise PaymentProviderError(f"Stripe is not configured: set {env_name} or STRIPE_SECRET_NAME")
    from aws_lambda_powertools.utilities import parameters

    secret: Any = parameters.get_secret(name, transform="json", max_age=SECRET_MAX_AGE)
    value = (secret or {}).get(secret_key) if isinstance(secret, dict) else None
    if not value:
        raise PaymentProviderError(f"the Stripe secret has no {secret_key!r}")
    return str(value)


def webhook_secret() -> str:
    return _setting("STRIPE_WEBHOOK_SECRET", "webhook_secret")


_clients: dict[tuple[str, str], stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    import stripe

    key, base = _setting("STRIPE_API_KEY", "api_key"), os.environ.get("STRIPE_API_BASE", "")
    if (key, base) not in _clients:
        _clients[(key, base)] = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else {},
            max_network_retries=NETWORK_RETRIES,
        )
    return _clients[(key, base)]


def as_dict(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain data (stripe 16 objects are not dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


@contextmanager
def errors() -> Iterator[None]:
    """Stripe's failures as PaymentProviderError (HTTP 502): nothing the caller sent can fix them."""
    import stripe

    try:
        yield
    except stripe.StripeError as error:
        raise PaymentProviderError(
            f"Stripe refused or failed the request: {error.user_message or error.__class__.__name__}",
            stripe_code=error.code,
        ) from error

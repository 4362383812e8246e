"""The Stripe client and the webhook secret, configured from the environment or Secrets Manager.

In AWS the secret named by STRIPE_SECRET_NAME holds ``{"api_key": ..., "webhook_secret": ...}`` and is read
from Secrets Manager once per 5 minutes (a rotated key is in use within that). STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET, when set,
take precedence (local runs and tests); STRIPE_API_BASE points the client at another API host (localstripe).
stripe is imported lazily: only the functions that talk to Stripe pay for its import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ledger import settings
from ledger.domain.errors import PaymentProviderError
from ledger.runtime import aws

if TYPE_CHECKING:
    import stripe

SECRET_MAX_AGE = 300
NETWORK_RETRIES = 2


def _setting(env_name: str, secret_key: str) -> str:
    if value := settings.stripe_key(env_name):
        return value
    name = settings.stripe_secret_name()
    if not name:
        raise PaymentProviderError(f"Stripe is not configured: set {env_name} or STRIPE_SECRET_NAME")
    secret = _secret(name)
    value = secret.get(secret_key) if isinstance(secret, dict) else None
    if not value:
        raise PaymentProviderError(f"the Stripe secret has no {secret_key!r}")
    return str(value)


_secrets: dict[str, tuple[float, Any]] = {}


def _secret(name: str) -> Any:
    """The secret's JSON value, read again when the copy in hand is older than ``SECRET_MAX_AGE``."""
    read_at, value = _secrets.get(name, (float("-inf"), None))
    if time.monotonic() - read_at > SECRET_MAX_AGE:
        text = aws.client("secretsmanager").get_secret_value(SecretId=name).get("SecretString") or "null"
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise PaymentProviderError("the Stripe secret is not JSON") from None
        _secrets[name] = (time.monotonic(), value)
    return value


def webhook_secret() -> str:
    return _setting("STRIPE_WEBHOOK_SECRET", "webhook_secret")


_clients: dict[tuple[str, str], stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    import stripe

    key, base = _setting("STRIPE_API_KEY", "api_key"), settings.stripe_api_base()
    if (key, base) not in _clients:
        _clients[(key, base)] = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else {},
            max_network_retries=NETWORK_RETRIES,
        )
    return _clients[(key, base)]


def call(
    method: str, path: str, params: dict[str, Any] | None = None, idempotency_key: str = ""
) -> dict[str, Any]:
    """One request to Stripe's API (``path``: ``/v1/...``); its answer as plain data, the JSON Stripe sent.

    Through ``raw_request`` rather than the typed services: they turn an answer into stripe objects, importing
    a module for each kind of object in it (on a cold start's first charge, about 20 ms), only for us to turn
    them back into plain data. The request is encoded, retried and refused (``StripeError``) the same way."""
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    answer: dict[str, Any] = json.loads(client().raw_request(method, path, **(params or {}), **options).body)
    return answer


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

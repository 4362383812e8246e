"""Domain errors. Each carries a stable code; the API layer maps them to HTTP in one place."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InsufficientCredits(LedgerError):
    code = "insufficient_credits"

    def __init__(self, available: int, requested: int, hard_limit: int = 0) -> None:
        spendable = max(available - hard_limit, 0)
        floor = f" above the floor of {hard_limit}" if hard_limit else ""
        super().__init__(
            f"{requested} credits requested but only {spendable} can be spent{floor}",
            available=available,
            requested=requested,
            hard_limit=hard_limit,
        )


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency_key {key!r} was already used with a different request")


class NotFound(LedgerError):
    code = "not_found"


class HoldNotOpen(LedgerError):
    code = "hold_not_open"


class HoldExpired(HoldNotOpen):
    code = "hold_expired"


class CaptureExceedsHold(LedgerError):
    code = "capture_exceeds_hold"


class InvalidRequest(LedgerError):
    code = "invalid_request"


class Forbidden(LedgerError):
    code = "forbidden"


class Busy(LedgerError):
    """The account stayed contended after every retry; the caller may retry with the same key."""

    code = "account_busy"


class InvalidSignature(LedgerError):
    """A webhook delivery whose signature does not verify (missing, forged or stale)."""

    code = "invalid_signature"


class PaymentProviderError(LedgerError):
    """Stripe could not be reached or refused the request for a reason that is not the caller's."""

    code = "payment_provider_error"


class PaymentMethodRequired(LedgerError):
    """Auto top-up needs a payment method saved for off-session charges, and there is none to use."""

    code = "payment_method_required"

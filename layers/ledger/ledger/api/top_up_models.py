"""Request and response bodies of the auto top-up settings."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import ConfigDict, Field, StrictBool, StrictInt

from ledger.api.base import Model
from ledger.domain.changes import from_epoch, iso
from ledger.domain.top_up import MAX_AMOUNT, DisabledReason, ResultStatus, TopUp


class TopUpSettingsIn(Model):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    threshold: StrictInt | None = Field(
        default=None,
        ge=0,
        le=MAX_AMOUNT,
        description="Top up when available falls below this many credits (0 to amount). Required to enable.",
    )
    amount: StrictInt | None = Field(
        default=None, ge=1, le=MAX_AMOUNT, description="Credits bought per top-up. Required to enable."
    )
    payment_method_id: str | None = Field(
        default=None,
        pattern=r"^pm_[A-Za-z0-9_]{1,200}$",
        description="A Stripe PaymentMethod to charge, attached to the account's customer. Default: the one "
        "already set, else the card of the latest purchase.",
    )


class PaymentMethodOut(Model):
    id: str
    brand: str | None
    last4: str | None


class LastResultOut(Model):
    status: ResultStatus
    purchase_id: str = Field(description="The top-up's purchase: GET /accounts/{id}/purchases/{purchase_id}.")
    at: str
    code: str | None = None
    message: str | None = None
    decline_code: str | None = None


class TopUpSettingsOut(Model):
    enabled: bool
    threshold: int | None
    amount: int | None
    payment_method: PaymentMethodOut | None
    disabled_reason: DisabledReason | None = Field(
        description="Why auto top-up turned itself off: authentication_required, hard_decline or "
        "repeated_failures. Cleared by enabling it again."
    )
    failures: int = Field(description="Failed charges in a row.")
    retry_at: str | None = Field(description="After a failure: when the next charge may be tried.")
    in_flight: bool = Field(description="A charge has started and has no outcome yet.")
    last_attempt_at: str | None
    last_result: LastResultOut | None

    @classmethod
    def of(cls, top_up: TopUp) -> TopUpSettingsOut:
        method = top_up.payment_method
        result = top_up.last_result
        return cls(
            enabled=top_up.enabled,
            threshold=top_up.threshold,
            amount=top_up.amount,
            payment_method=PaymentMethodOut(**asdict(method)) if method else None,
            disabled_reason=top_up.disabled_reason,
            failures=top_up.failures,
            retry_at=iso(from_epoch(top_up.retry_at)) if top_up.retry_at and top_up.enabled else None,
            in_flight=top_up.in_flight is not None,
            last_attempt_at=top_up.last_attempt_at,
            last_result=LastResultOut(**asdict(result)) if result else None,
        )

"""Request and response bodies of the auto top-up settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from ledger.domain.changes import from_epoch, iso
from ledger.domain.top_up import MAX_AMOUNT, DisabledReason, ResultStatus, TopUp
from ledger.shapes import Request, Rule, StrictBool, StrictInt


@dataclass(kw_only=True)
class TopUpSettingsIn(Request):
    enabled: StrictBool
    threshold: Annotated[
        StrictInt | None,
        Rule(
            ge=0,
            le=MAX_AMOUNT,
            description="Top up when available falls below this many credits (0 to amount). Required to enable.",
        ),
    ] = None
    amount: Annotated[
        StrictInt | None,
        Rule(ge=1, le=MAX_AMOUNT, description="Credits bought per top-up. Required to enable."),
    ] = None
    payment_method_id: Annotated[
        str | None,
        Rule(
            pattern=r"^pm_[A-Za-z0-9_]{1,200}$",
            description="A Stripe PaymentMethod to charge, attached to the account's customer. Default: the one "
            "already set, else the card of the latest purchase.",
        ),
    ] = None


@dataclass(kw_only=True)
class PaymentMethodOut:
    id: str
    brand: str | None
    last4: str | None


@dataclass(kw_only=True)
class LastResultOut:
    status: ResultStatus
    purchase_id: Annotated[
        str, Rule(description="The top-up's purchase: GET /accounts/{id}/purchases/{purchase_id}.")
    ]
    at: str
    code: str | None = None
    message: str | None = None
    decline_code: str | None = None


@dataclass(kw_only=True)
class TopUpSettingsOut:
    enabled: bool
    threshold: int | None
    amount: int | None
    payment_method: PaymentMethodOut | None
    disabled_reason: Annotated[
        DisabledReason | None,
        Rule(
            description="Why auto top-up turned itself off: authentication_required, hard_decline or "
            "repeated_failures. Cleared by enabling it again."
        ),
    ]
    failures: Annotated[int, Rule(description="Failed charges in a row.")]
    retry_at: Annotated[str | None, Rule(description="After a failure: when the next charge may be tried.")]
    in_flight: Annotated[bool, Rule(description="A charge has started and has no outcome yet.")]
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

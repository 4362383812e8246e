"""Request and response bodies of packages, purchases, the billing portal and the Stripe webhook."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, HttpUrl

from ledger.api.base import Model
from ledger.domain.purchase import PaymentMode, Purchase, PurchaseStatus
from ledger.payments.catalog import MAX_CREDITS, Catalog, Tier
from ledger.usecases.purchase import NewPurchase


class PackageOut(Model):
    id: str
    credits: int
    price: int = Field(description="In the currency's minor unit (cents for usd).")
    currency: str


class CustomOut(Model):
    min_credits: int
    max_credits: int
    tiers: list[Tier] = Field(
        description="A custom amount costs its tier's price_per_1000 per 1,000 credits, rounded up, "
        "capped by the larger offers (see price_rule)."
    )
    price_rule: Literal["tier_rate_capped_by_larger_offers"] = Field(
        default="tier_rate_capped_by_larger_offers",
        description="The price never falls as the amount rises: a custom amount costs its tier's rate, but "
        "never more than the first amount of a later tier or a package of at least as many credits "
        "(4,999 credits cost what 5,000 do).",
    )


class PackagesOut(Model):
    items: list[PackageOut]
    custom: CustomOut
    currency: str

    @classmethod
    def of(cls, catalog: Catalog) -> PackagesOut:
        return cls(
            items=[PackageOut(currency=catalog.currency, **p.model_dump()) for p in catalog.packages],
            custom=CustomOut(**catalog.custom.model_dump()),
            currency=catalog.currency,
        )


class PurchaseIn(Model):
    """Either ``package_id`` or ``credits`` (the use case checks, for library callers too)."""

    model_config = ConfigDict(extra="forbid")

    package_id: Annotated[str, Field(max_length=64)] | None = None
    credits: Annotated[int, Field(strict=True, ge=1, le=MAX_CREDITS)] | None = Field(
        default=None, description="A custom amount, priced by the tier it falls in."
    )
    mode: PaymentMode = Field(
        default="payment_intent",
        description="payment_intent: a client_secret for Stripe's Payment Element; "
        "checkout: an embedded Checkout Session (needs return_url).",
    )
    return_url: HttpUrl | None = Field(default=None, description="Required for checkout.")


class FailureOut(Model):
    code: str | None
    message: str | None
    decline_code: str | None = None


class PurchaseOut(Model):
    purchase_id: str
    account_id: str
    credits: int
    amount: int = Field(description="The price, in the currency's minor unit.")
    currency: str
    status: PurchaseStatus
    mode: str = Field(description="payment_intent, checkout, or auto_top_up (charged off-session).")
    created_at: str
    paid_at: str | None = None
    payment_intent_id: str | None = None
    checkout_session_id: str | None = None
    grant_id: str | None = None
    failure: FailureOut | None = None
    refunded_amount: int = 0
    credits_clawed_back: int = 0

    @classmethod
    def of(cls, p: Purchase) -> PurchaseOut:
        return cls(
            purchase_id=p.id,
            account_id=p.account_id,
            credits=p.credits,
            amount=p.amount,
            currency=p.currency,
            status=p.status,
            mode=p.mode,
            created_at=p.created_at,
            paid_at=p.paid_at,
            payment_intent_id=p.payment_intent_id,
            checkout_session_id=p.checkout_session_id,
            grant_id=p.grant_id,
            failure=FailureOut(**asdict(p.failure)) if p.failure else None,
            refunded_amount=p.refunded_amount,
            credits_clawed_back=p.clawed_back,
        )


class NewPurchaseOut(PurchaseOut):
    client_secret: str | None = Field(
        default=None, description="For Stripe.js: the PaymentIntent's or embedded Checkout Session's secret."
    )
    checkout_url: str | None = Field(
        default=None, description="A hosted Checkout page, when Stripe gives one."
    )

    @classmethod
    def made(cls, new: NewPurchase) -> NewPurchaseOut:
        base = PurchaseOut.of(new.purchase).model_dump()
        return cls(**base, client_secret=new.client_secret, checkout_url=new.checkout_url)


class BillingPortalIn(Model):
    model_config = ConfigDict(extra="forbid")

    return_url: HttpUrl


class BillingPortalOut(Model):
    url: str


class WebhookOut(Model):
    received: Literal[True] = True
    result: str

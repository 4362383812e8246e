"""Request and response bodies of packages, purchases, the billing portal and the Stripe webhook."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from ledger.domain.purchase import PaymentMode, Purchase, PurchaseStatus
from ledger.payments.catalog import MAX_CREDITS
from ledger.shapes import HttpUrl, Request, Rule

if TYPE_CHECKING:
    from ledger.payments.catalog import Catalog
    from ledger.usecases.purchase import NewPurchase


@dataclass(kw_only=True)
class PackageOut:
    id: str
    credits: int
    price: Annotated[int, Rule(description="In the currency's minor unit (cents for usd).")]
    currency: str


@dataclass(kw_only=True)
class Tier:
    """Custom amounts from ``from_credits`` up cost ``price_per_1000`` minor units per 1,000 credits."""

    from_credits: Annotated[int, Rule(ge=1)]
    price_per_1000: Annotated[int, Rule(ge=1)]


@dataclass(kw_only=True)
class CustomOut:
    min_credits: int
    max_credits: int
    tiers: Annotated[
        list[Tier],
        Rule(
            description="A custom amount costs its tier's price_per_1000 per 1,000 credits, rounded up, "
            "capped by the larger offers (see price_rule)."
        ),
    ]
    price_rule: Annotated[
        Literal["tier_rate_capped_by_larger_offers"],
        Rule(
            description="The price never falls as the amount rises: a custom amount costs its tier's rate, but "
            "never more than the first amount of a later tier or a package of at least as many credits "
            "(4,999 credits cost what 5,000 do)."
        ),
    ] = "tier_rate_capped_by_larger_offers"


@dataclass(kw_only=True)
class PackagesOut:
    items: list[PackageOut]
    custom: CustomOut
    currency: str

    @classmethod
    def of(cls, catalog: Catalog) -> PackagesOut:
        custom = catalog.custom
        return cls(
            items=[
                PackageOut(id=p.id, credits=p.credits, price=p.price, currency=catalog.currency)
                for p in catalog.packages
            ],
            custom=CustomOut(
                min_credits=custom.min_credits,
                max_credits=custom.max_credits,
                tiers=[
                    Tier(from_credits=t.from_credits, price_per_1000=t.price_per_1000) for t in custom.tiers
                ],
            ),
            currency=catalog.currency,
        )


@dataclass(kw_only=True)
class PurchaseIn(Request):
    """Either ``package_id`` or ``credits`` (the use case checks, for library callers too)."""

    package_id: Annotated[str, Rule(max_length=64)] | None = None
    credits: Annotated[
        Annotated[int, Rule(strict=True, ge=1, le=MAX_CREDITS)] | None,
        Rule(description="A custom amount, priced by the tier it falls in."),
    ] = None
    mode: Annotated[
        PaymentMode,
        Rule(
            description="payment_intent: a client_secret for Stripe's Payment Element; "
            "checkout: an embedded Checkout Session (needs return_url)."
        ),
    ] = "payment_intent"
    return_url: Annotated[HttpUrl | None, Rule(description="Required for checkout.")] = None


@dataclass(kw_only=True)
class FailureOut:
    code: str | None
    message: str | None
    decline_code: str | None = None


@dataclass(kw_only=True)
class PurchaseOut:
    purchase_id: str
    account_id: str
    credits: int
    amount: Annotated[int, Rule(description="The price, in the currency's minor unit.")]
    currency: str
    status: PurchaseStatus
    mode: Annotated[str, Rule(description="payment_intent, checkout, or auto_top_up (charged off-session).")]
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


@dataclass(kw_only=True)
class NewPurchaseOut(PurchaseOut):
    client_secret: Annotated[
        str | None,
        Rule(description="For Stripe.js: the PaymentIntent's or embedded Checkout Session's secret."),
    ] = None
    checkout_url: Annotated[
        str | None, Rule(description="A hosted Checkout page, when Stripe gives one.")
    ] = None

    @classmethod
    def made(cls, new: NewPurchase) -> NewPurchaseOut:
        base = PurchaseOut.of(new.purchase)
        return cls(**vars(base), client_secret=new.client_secret, checkout_url=new.checkout_url)


@dataclass(kw_only=True)
class BillingPortalIn(Request):
    return_url: HttpUrl


@dataclass(kw_only=True)
class BillingPortalOut:
    url: str


@dataclass(kw_only=True)
class WebhookOut:
    received: Literal[True] = True
    result: str

"""Purchase: price the credits, ask Stripe for a payment, remember the purchase. No credit is granted
here: credits arrive when Stripe confirms the payment (usecases/payment.py, from the webhook)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.domain.changes import iso, utcnow
from ledger.domain.errors import InvalidRequest, NotFound
from ledger.domain.purchase import PaymentMode, Purchase
from ledger.payments import gateway
from ledger.payments.catalog import catalog
from ledger.store import table
from ledger.store.purchases import get_purchase_item, payment_put, purchase_item
from ledger.store.schema import account_key
from ledger.store.writes import Expr, put, transact


@dataclass(frozen=True, slots=True)
class NewPurchase:
    purchase: Purchase
    client_secret: str | None
    checkout_url: str | None


def create_purchase(
    account_id: str,
    package_id: str | None = None,
    credits: int | None = None,
    mode: PaymentMode = "payment_intent",
    return_url: str | None = None,
    now: datetime | None = None,
) -> NewPurchase:
    now = now or utcnow()
    table.account_pk(account_id)  # validates the id before anything reaches Stripe
    offer = catalog()
    if (package_id is None) == (credits is None):
        raise InvalidRequest("give either package_id or credits")
    if package_id is not None:
        package = offer.package(package_id)
        credits, amount = package.credits, package.price
    else:
        assert credits is not None
        amount = offer.custom_price(credits)
    if mode == "checkout" and not return_url:
        raise InvalidRequest("return_url is required for checkout")
    purchase = Purchase(
        id="pur_" + uuid.uuid4().hex[:24],
        account_id=account_id,
        credits=credits,
        amount=amount,
        currency=offer.currency,
        mode=mode,
        created_at=iso(now),
    )
    customer = ensure_customer(account_id)
    metadata = {"account_id": account_id, "purchase_id": purchase.id, "credits": str(credits)}
    description = f"{credits:,} credits"
    if mode == "checkout":
        made = gateway.create_checkout_session(
            amount=amount,
            currency=purchase.currency,
            customer=customer,
            description=description,
            metadata=metadata,
            return_url=str(return_url),
            reference=purchase.id,
            idempotency_key=purchase.id,
        )
        purchase = replace(purchase, checkout_session_id=made.id)
    else:
        made = gateway.create_payment_intent(
            amount=amount,
            currency=purchase.currency,
            customer=customer,
            description=description,
            metadata=metadata,
            idempotency_key=purchase.id,
        )
        purchase = replace(purchase, payment_intent_id=made.id)
    # Stripe first: a purchase we never recorded was never shown to anyone, so it cannot be paid
    transact([put(purchase_item(purchase)), payment_put(made.id, account_id, purchase.id)])
    return NewPurchase(purchase, made.client_secret, made.url)


def get_purchase(account_id: str, purchase_id: str) -> Purchase:
    purchase = get_purchase_item(account_id, purchase_id)
    if purchase is None:
        raise NotFound(f"no purchase {purchase_id!r} in this account", purchase_id=purchase_id)
    return purchase


def ensure_customer(account_id: str) -> str:
    """The account's Stripe customer, created on first use and kept on the account item."""
    item = table.get_item(account_id, table.ACCOUNT_SK, "stripe_customer_id")
    if item and item.get("stripe_customer_id"):
        return str(item["stripe_customer_id"])
    customer = gateway.create_customer(account_id)
    # the first to record a customer wins; a concurrent loser's customer simply stays unused
    expr = Expr().set_if_absent("stripe_customer_id", customer)
    update = expr.update(account_key(account_id), return_old_on_failure=False)["Update"]
    response = table.client().update_item(**update, ReturnValues="UPDATED_NEW")
    return str((table.from_item(response.get("Attributes")) or {}).get("stripe_customer_id", customer))


def billing_portal(account_id: str, return_url: str) -> str:
    """A Stripe Customer Portal session URL, where the customer updates the saved card and sees invoices."""
    customer = ensure_customer(account_id)
    return gateway.billing_portal_url(customer, return_url)

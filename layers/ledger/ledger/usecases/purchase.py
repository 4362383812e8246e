"""Purchase: price the credits, ask Stripe for a payment, remember the purchase. No credit is granted
here: credits arrive when Stripe confirms the payment (usecases/payment.py, from the webhook)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.changes import iso, utcnow
from ledger.domain.errors import InvalidRequest, NotFound
from ledger.domain.purchase import PaymentMode, Purchase
from ledger.payments import stripe_api
from ledger.payments.catalog import catalog
from ledger.store import table
from ledger.store.purchases import get_purchase_item, payment_put, purchase_item
from ledger.store.schema import account_key
from ledger.store.writes import Expr, put, transact

if TYPE_CHECKING:
    import stripe


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
    options: Any = {"idempotency_key": purchase.id}
    description = f"{credits:,} credits"
    with stripe_api.errors():
        if mode == "checkout":
            session = stripe_api.client().v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "ui_mode": "embedded",
                    "customer": customer,
                    "return_url": str(return_url),
                    "client_reference_id": purchase.id,
                    "metadata": metadata,
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": purchase.currency,
                                "unit_amount": amount,
                                "product_data": {"name": description},
                            },
                        }
                    ],
                    "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
                },
                options,
            )
            stripe_id, secret, url = session.id, session.client_secret, session.url
            purchase = replace(purchase, checkout_session_id=stripe_id)
        else:
            intent = stripe_api.client().v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": purchase.currency,
                    "customer": customer,
                    "setup_future_usage": "off_session",
                    "description": description,
                    "metadata": metadata,
                },
                options,
            )
            stripe_id, secret, url = intent.id, intent.client_secret, None
            purchase = replace(purchase, payment_intent_id=stripe_id)
    # Stripe first: a purchase we never recorded was never shown to anyone, so it cannot be paid
    transact([put(purchase_item(purchase)), payment_put(stripe_id, account_id, purchase.id)])
    return NewPurchase(purchase, secret, url)


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
    with stripe_api.errors():
        customer: stripe.Customer = stripe_api.client().v1.customers.create(
            {"metadata": {"account_id": account_id}},
            {"idempotency_key": f"customer-{account_id}"},
        )
    # the first to record a customer wins; a concurrent loser's customer simply stays unused
    expr = Expr()
    name = expr.name("stripe_customer_id")
    expr.sets.append(f"{name} = if_not_exists({name}, {expr.value(customer.id)})")
    update = expr.update(account_key(account_id), return_old_on_failure=False)["Update"]
    response = table.client().update_item(**update, ReturnValues="UPDATED_NEW")
    return str((table.from_item(response.get("Attributes")) or {}).get("stripe_customer_id", customer.id))


def billing_portal(account_id: str, return_url: str) -> str:
    """A Stripe Customer Portal session URL, where the customer updates the saved card and sees invoices."""
    customer = ensure_customer(account_id)
    with stripe_api.errors():
        session = stripe_api.client().v1.billing_portal.sessions.create(
            {"customer": customer, "return_url": return_url}
        )
    return str(session.url)

"""Purchase items and the Stripe references that lead back to them.

pk = ACCOUNT#<account_id>, sk = "P#<purchase_id>"   the purchase (price, status, refunds, disputes)
pk = STRIPE#<pi_... or cs_...>, sk = "STRIPE"         which account and purchase a Stripe object pays for
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ledger.domain.purchase import Failure, Purchase
from ledger.store import table
from ledger.store.schema import payment_key, purchase_key, purchase_sk
from ledger.store.writes import put


def purchase_item(purchase: Purchase) -> dict[str, Any]:
    values = {k: v for k, v in asdict(purchase).items() if v is not None and k != "id"}
    return {**purchase_key(purchase.account_id, purchase.id), "purchase_id": purchase.id, **values}


def parse_purchase(item: dict[str, Any]) -> Purchase:
    failure = item.get("failure")
    return Purchase(
        id=item["purchase_id"],
        account_id=item["account_id"],
        credits=item["credits"],
        amount=item["amount"],
        currency=item["currency"],
        mode=item["mode"],
        created_at=item["created_at"],
        paid=item.get("paid", False),
        paid_at=item.get("paid_at"),
        payment_intent_id=item.get("payment_intent_id"),
        checkout_session_id=item.get("checkout_session_id"),
        payment_method_id=item.get("payment_method_id"),
        grant_id=item.get("grant_id"),
        failure=Failure(**failure) if failure else None,
        refunded_amount=item.get("refunded_amount", 0),
        clawed_back=item.get("clawed_back", 0),
        disputes=item.get("disputes", {}),
    )


def get_purchase_item(account_id: str, purchase_id: str) -> Purchase | None:
    item = table.get_item(account_id, purchase_sk(purchase_id))
    return parse_purchase(item) if item else None


def payment_put(stripe_id: str, account_id: str, purchase_id: str) -> dict[str, Any]:
    """Remember which purchase a PaymentIntent or Checkout Session pays (rewriting it is harmless)."""
    return put(
        {**payment_key(stripe_id), "account_id": account_id, "purchase_id": purchase_id}, only_if_new=False
    )


def find_payment(stripe_id: str) -> tuple[str, str] | None:
    """(account_id, purchase_id) of a PaymentIntent or Checkout Session we created, if any."""
    item = table.from_item(
        table.client()
        .get_item(
            TableName=table.table_name(), Key=table.to_item(payment_key(stripe_id)), ConsistentRead=True
        )
        .get("Item")
    )
    return (item["account_id"], item["purchase_id"]) if item else None

"""Reconcile payments: Stripe's record of what was paid and refunded against the ledger's credits.

Over a window of time, both ways:

- every succeeded PaymentIntent carrying our metadata (``account_id``, ``purchase_id``; Checkout Sessions pay
  through one too) has its purchase paid and exactly one grant entry of the purchased credits; the charge's
  refunded amount is the purchase's, and the refund entries of that charge took back exactly the credits the
  pro-rata rule gives for it (purchases with disputes are checked for their refunds only);
- every purchase of the given accounts paid in the window was paid at Stripe: its PaymentIntent succeeded,
  for the purchase's price.

Each discrepancy is a ``Drift`` (domain/reconcile.py), announced like the ledger's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ledger.domain import disputes
from ledger.domain.purchase import AUTO_TOP_UP, Purchase
from ledger.domain.reconcile import Drift
from ledger.payments import gateway
from ledger.store import table
from ledger.store.entries import of_type
from ledger.store.purchases import get_purchase_item, parse_purchase
from ledger.store.schema import PURCHASE_PREFIX, account_pk, payment_pk, purchase_sk


@dataclass
class PaymentsReport:
    intents: int = 0  # PaymentIntents of ours read at Stripe
    purchases: int = 0  # paid purchases checked against Stripe
    drifts: list[Drift] = field(default_factory=list)


def _entry_type(purchase: Purchase) -> str:
    return "auto_top_up" if purchase.mode == AUTO_TOP_UP else "purchase"


def _check_intent(intent: dict, report: PaymentsReport) -> None:
    metadata = intent.get("metadata") or {}
    account_id, purchase_id = metadata.get("account_id"), metadata.get("purchase_id")
    if (
        intent.get("status") != "succeeded"
        or not isinstance(account_id, str)
        or not isinstance(purchase_id, str)
    ):
        return
    report.intents += 1
    items = (purchase_sk(purchase_id), payment_pk(intent["id"]))
    purchase = get_purchase_item(account_id, purchase_id)
    received = intent.get("amount_received") or intent.get("amount")
    if purchase is None or not purchase.paid or not purchase.grant_id:
        report.drifts.append(
            Drift(
                account_id,
                "payment_not_granted",
                f"PaymentIntent {intent['id']} succeeded but its purchase was not credited",
                {"purchase": purchase_id, "paid": True},
                {"purchase": purchase_id, "paid": bool(purchase and purchase.paid), "received": received},
                items,
            )
        )
        return
    grants = [e for e in of_type(account_id, _entry_type(purchase)) if e.grant_id == purchase.grant_id]
    found = [e.amount for e in grants]
    if found != [purchase.credits]:
        report.drifts.append(
            Drift(
                account_id,
                "grant_count",
                f"purchase {purchase_id} should have exactly one grant of its credits",
                [purchase.credits],
                found,
                (*items, purchase.grant_id),
            )
        )
    charge = gateway.latest_charge(intent)
    if charge is None:
        return
    refunded = int(charge.get("amount_refunded") or 0)
    if refunded != purchase.refunded_amount:
        report.drifts.append(
            Drift(
                account_id,
                "refund_not_clawed_back",
                f"charge {charge['id']} was refunded {refunded} but the purchase records {purchase.refunded_amount}",
                refunded,
                purchase.refunded_amount,
                (*items, str(charge["id"])),
            )
        )
        return
    if purchase.disputes or charge.get("disputed"):
        _check_disputes(account_id, purchase, intent, items, report)
        return
    taken = -sum(e.amount for e in of_type(account_id, "refund") if e.reference == charge["id"])
    if taken != purchase.credits_for(refunded):
        report.drifts.append(
            Drift(
                account_id,
                "refund_pro_rata",
                f"the refunds of charge {charge['id']} took back other credits than the pro-rata rule gives",
                purchase.credits_for(refunded),
                taken,
                (*items, str(charge["id"])),
            )
        )


def _check_disputes(
    account_id: str, purchase: Purchase, intent: dict, items: tuple[str, ...], report: PaymentsReport
) -> None:
    """Stripe's disputes of the payment against the purchase's record of them, and the record against the
    dispute entries: each dispute known, in the same state (won or not), its clawback written."""
    at_stripe = {str(d["id"]): d for d in gateway.list_disputes(str(intent["id"]))}
    entries = of_type(account_id, "dispute")
    for dispute_id in sorted(at_stripe.keys() | purchase.disputes.keys()):
        theirs, known = at_stripe.get(dispute_id), purchase.disputes.get(dispute_id)
        where = (*items, dispute_id)
        if known is None or theirs is None:
            report.drifts.append(
                Drift(
                    account_id,
                    "dispute_not_recorded" if known is None else "dispute_unknown_to_stripe",
                    f"dispute {dispute_id} of purchase {purchase.id} is "
                    + (
                        "at Stripe but not in the ledger"
                        if known is None
                        else "in the ledger but not at Stripe"
                    ),
                    (theirs or {}).get("status"),
                    (known or {}).get("status"),
                    where,
                )
            )
            continue
        if disputes.is_restored(theirs.get("status")) != disputes.is_restored(known.get("status")):
            report.drifts.append(
                Drift(
                    account_id,
                    "dispute_status",
                    f"dispute {dispute_id} is {theirs.get('status')} at Stripe, {known.get('status')} in the ledger",
                    theirs.get("status"),
                    known.get("status"),
                    where,
                )
            )
        taken = -sum(e.amount for e in entries if e.reference == dispute_id)
        if taken != disputes.kept(known):
            report.drifts.append(
                Drift(
                    account_id,
                    "dispute_clawback",
                    f"the entries of dispute {dispute_id} are not the credits its record took and gave back",
                    disputes.kept(known),
                    taken,
                    where,
                )
            )


def _paid_purchases(account_id: str, start: datetime, end: datetime) -> Iterable[Purchase]:
    pages = table.query_pages(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues=table.to_item({":pk": account_pk(account_id), ":p": PURCHASE_PREFIX}),
        ConsistentRead=True,
    )
    for page in pages:
        for item in page:
            purchase = parse_purchase(item)
            if (
                purchase.paid
                and purchase.paid_at
                and start.isoformat() <= _utc(purchase.paid_at) < end.isoformat()
            ):
                yield purchase


def _utc(moment: str) -> str:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).isoformat()


def _check_purchase(purchase: Purchase, report: PaymentsReport) -> None:
    report.purchases += 1
    items = (purchase_sk(purchase.id),)
    intent = (
        gateway.retrieve_payment_intent(purchase.payment_intent_id) if purchase.payment_intent_id else None
    )
    received = (intent or {}).get("amount_received") or (intent or {}).get("amount")
    paid = intent is not None and intent.get("status") == "succeeded"
    if not paid or received != purchase.amount or (intent or {}).get("currency") != purchase.currency:
        report.drifts.append(
            Drift(
                purchase.account_id,
                "grant_without_payment",
                f"purchase {purchase.id} was credited but Stripe holds no payment of its price",
                {"status": "succeeded", "amount": purchase.amount, "currency": purchase.currency},
                {
                    "status": (intent or {}).get("status"),
                    "amount": received,
                    "currency": (intent or {}).get("currency"),
                },
                (*items, payment_pk(str(purchase.payment_intent_id))),
            )
        )


def reconcile_payments(start: datetime, end: datetime, accounts: Iterable[str] = ()) -> PaymentsReport:
    """Stripe's payments created in [start, end) against the ledger, and the purchases of ``accounts`` paid
    in that window against Stripe."""
    report = PaymentsReport()
    for intent in gateway.list_payment_intents(start, end):
        _check_intent(intent, report)
    for account_id in accounts:
        for purchase in _paid_purchases(account_id, start, end):
            _check_purchase(purchase, report)
    return report

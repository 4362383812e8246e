"""Auto top-up: claim, charge off-session, record the outcome.

1. **Claim** (one transaction): the auto top-up item takes the top-up as ``in_flight``, conditioned on the
   version its decision read (``TopUp.may_start``); the account is checked to be below the threshold still;
   the top-up's purchase item (mode ``auto_top_up``) is created. At most one claim per account succeeds.
2. **Charge**: ``PaymentIntent.create(off_session=True, confirm=True)`` with the purchase id as Stripe's
   idempotency key, so charging the same top-up again can never charge twice.
3. **Outcome**, through the same code as Stripe's webhooks (``usecases/payment.py``): succeeded → the grant
   (source ``auto_top_up``) once, whichever reports it first; failed, or needing the customer
   (``requires_action``) → no credits, the failure counted; processing → wait for the webhook.

A claim is released only by its outcome. One left in flight (the function died, Stripe was unreachable) is
looked at again once stale: retrieved from Stripe when its PaymentIntent is known, else charged again with the
same idempotency key, which returns Stripe's first answer instead of charging twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import epoch, iso, utcnow
from ledger.domain.errors import PaymentProviderError
from ledger.domain.purchase import AUTO_TOP_UP, Failure, Purchase
from ledger.domain.thresholds import spendable_trip
from ledger.domain.top_up import STALE_AFTER_SECONDS, Attempt, TopUp
from ledger.payments import gateway
from ledger.payments.catalog import catalog
from ledger.runtime.log import Logger
from ledger.store.account_item import parse_account
from ledger.store.purchases import get_purchase_item, payment_put, purchase_item
from ledger.store.schema import account_key, purchase_key, top_up_key
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT, attempt_map, read_with_account
from ledger.store.writes import Cancelled, Expr, put, transact
from ledger.usecases import payment, top_up_outcome
from ledger.usecases.purchase import ensure_customer

logger = Logger()

CLAIM_RETRIES = 3
IDEMPOTENCY_WINDOW = timedelta(hours=23)  # Stripe keeps idempotency keys for at least 24 hours


@dataclass(frozen=True, slots=True)
class Started:
    """What one look at an account did: ``result`` is none, or the top-up's outcome so far."""

    purchase_id: str | None = None
    result: str = "none"  # none | succeeded | failed | processing | in_flight


def top_up_if_due(account_id: str, crossing_seq: int | None = None, now: datetime | None = None) -> Started:
    """Start the account's top-up if it is due (or look again at a stale one in flight).

    ``crossing_seq``: the write at that seq took available below the threshold (from the stream); without
    it the caller is the safety net."""
    now = now or utcnow()
    for _ in range(CLAIM_RETRIES):
        item, top_up = read_with_account(account_id)
        if top_up.stale(epoch(now)):
            return resume(top_up, now)
        account = parse_account(account_id, item)
        seq = account.seq if crossing_seq is None else crossing_seq
        if not top_up.may_start(
            account.available, seq, account.lifetime_spent, epoch(now), crossing=crossing_seq is not None
        ):
            return Started(top_up.in_flight, "in_flight" if top_up.in_flight else "none")
        try:
            purchase = _claim(top_up, account, seq, now)
        except Cancelled:
            continue  # the settings, the account or another claim moved first: decide again
        return _charge(purchase, now, (item or {}).get("stripe_customer_id"))
    return Started()


def _claim(top_up: TopUp, account: Account, seq: int, now: datetime) -> Purchase:
    assert top_up.amount is not None and top_up.threshold is not None and top_up.payment_method is not None
    offer = catalog()
    purchase = Purchase(
        id="atu_" + uuid.uuid4().hex[:24],
        account_id=account.account_id,
        credits=top_up.amount,
        amount=offer.top_up_price(top_up.amount),
        currency=offer.currency,
        mode=AUTO_TOP_UP,
        created_at=iso(now),
        payment_method_id=top_up.payment_method.id,
    )
    claim = Expr().when("{a_v} = {v}", a_v="version", v=top_up.version).add("version", 1)
    claim.set("in_flight", purchase.id).set("claimed_at", epoch(now))
    claim.set("claimed_seq", max(seq, top_up.claimed_seq or 0)).set("claimed_spent", account.lifetime_spent)
    claim.set("last_attempt_at", iso(now)).set("check_at", epoch(now) + STALE_AFTER_SECONDS)
    claim.set("last_result", attempt_map(Attempt("pending", purchase.id, iso(now))))
    # still below the threshold, said on spendable: the one figure every write keeps
    below = Expr().when(
        "{a_t} = {t} AND {a_s} < {trip}",
        a_t=THRESHOLD_ON_ACCOUNT,
        t=top_up.threshold,
        a_s="spendable",
        trip=spendable_trip(top_up.threshold, account.hard_limit),
    )
    if account.hard_limit:
        below.when("{a_h} = {h}", a_h="hard_limit", h=account.hard_limit)
    else:
        below.when("attribute_not_exists({a_h}) OR {a_h} = {zero}", a_h="hard_limit", zero=0)
    check = below.update(account_key(account.account_id), return_old_on_failure=False)["Update"]
    check.pop("UpdateExpression")
    transact(
        [
            claim.update(top_up_key(account.account_id), return_old_on_failure=False),
            {"ConditionCheck": check},
            put(purchase_item(purchase)),
        ]
    )
    return purchase


def _charge(purchase: Purchase, now: datetime, customer: str | None = None) -> Started:
    """Charge the top-up off-session (idempotent per top-up) and record what Stripe answered."""
    customer = customer or ensure_customer(purchase.account_id)  # known from the claim's read, usually
    charge = gateway.charge_off_session(
        amount=purchase.amount,
        currency=purchase.currency,
        customer=customer,
        payment_method=str(purchase.payment_method_id),
        description=f"Auto top-up: {purchase.credits:,} credits",
        metadata={
            "account_id": purchase.account_id,
            "purchase_id": purchase.id,
            "credits": str(purchase.credits),
            "kind": AUTO_TOP_UP,
        },
        idempotency_key=purchase.id,
    )
    if isinstance(charge, gateway.Declined):
        return _declined(purchase, charge, now)
    return record(purchase, charge.intent, now)


def record(purchase: Purchase, intent: dict[str, Any], now: datetime) -> Started:
    """Record what the top-up's PaymentIntent says now."""
    outcome = gateway.outcome_of(intent)
    if outcome.status == "succeeded":
        payment.payment_succeeded(intent, paid_at=now, now=now)
        return Started(purchase.id, "succeeded")
    if outcome.status == "processing":
        transact(
            [
                Expr()
                .set("payment_intent_id", intent["id"])
                .when("attribute_exists(pk)")
                .update(purchase_key(purchase.account_id, purchase.id)),
                payment_put(str(intent["id"]), purchase.account_id, purchase.id),
                top_up_outcome.processing(purchase, now),
            ]
        )
        return Started(purchase.id, "processing")
    if outcome.awaiting_customer:
        _cancel(str(intent["id"]))
    failure = {"last_payment_error": _failure_map(outcome.failure)} if outcome.failure else {}
    payment.payment_failed({**intent, "object": "payment_intent", **failure}, now=now)
    return Started(purchase.id, "failed")


def _declined(purchase: Purchase, declined: gateway.Declined, now: datetime) -> Started:
    payment.payment_failed(
        {
            **declined.intent,
            "object": "payment_intent",
            "id": declined.intent.get("id"),
            "metadata": {"account_id": purchase.account_id, "purchase_id": purchase.id},
            "last_payment_error": _failure_map(declined.failure),
        },
        now=now,
    )
    return Started(purchase.id, "failed")


def _failure_map(failure: Failure) -> dict[str, Any]:
    return {"code": failure.code, "message": failure.message, "decline_code": failure.decline_code}


def _cancel(intent_id: str) -> None:
    """Cancel a charge that waits for the customer: it must not complete later, unseen."""
    try:
        gateway.cancel_payment_intent(intent_id)
    except PaymentProviderError:
        logger.warning("could not cancel a PaymentIntent that requires action", payment_intent=intent_id)


def resume(top_up: TopUp, now: datetime) -> Started:
    """Settle a stale top-up in flight without charging twice."""
    assert top_up.in_flight is not None
    purchase = get_purchase_item(top_up.account_id, top_up.in_flight)
    if purchase is None:  # the claim never committed its purchase: impossible in one transaction
        raise RuntimeError(f"top-up {top_up.in_flight} is in flight without its purchase")
    if purchase.payment_intent_id:
        return record(purchase, gateway.retrieve_payment_intent(purchase.payment_intent_id), now)
    claimed = datetime.fromisoformat(purchase.created_at.replace("Z", "+00:00"))
    if now - claimed < IDEMPOTENCY_WINDOW:
        return _charge(purchase, now)  # same idempotency key: Stripe answers as it did the first time
    # Stripe has forgotten the key and no webhook ever named a PaymentIntent: it was never charged
    payment.payment_failed(
        {
            "object": "payment_intent",
            "metadata": {"account_id": purchase.account_id, "purchase_id": purchase.id},
            "last_payment_error": {"code": "abandoned", "message": "the charge never reached Stripe"},
        },
        now=now,
    )
    return Started(purchase.id, "failed")

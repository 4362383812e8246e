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
from typing import TYPE_CHECKING, Any

from ledger.domain.account import Account
from ledger.domain.changes import epoch, iso, utcnow
from ledger.domain.errors import PaymentProviderError
from ledger.domain.purchase import AUTO_TOP_UP, Purchase
from ledger.domain.top_up import STALE_AFTER_SECONDS, Attempt, TopUp
from ledger.payments import stripe_api
from ledger.payments.catalog import catalog
from ledger.runtime.log import Logger
from ledger.store.account_item import parse_account
from ledger.store.purchases import get_purchase_item, payment_put, purchase_item, purchase_key
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT, attempt_map, read_with_account, top_up_key
from ledger.store.writes import Cancelled, Expr, account_key, put, transact
from ledger.usecases import payment, top_up_outcome
from ledger.usecases.purchase import ensure_customer

if TYPE_CHECKING:
    import stripe

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
    # still below the threshold: spendable = available - hard_limit, the one figure every write keeps
    below = Expr().when(
        "{a_t} = {t} AND {a_s} < {trip}",
        a_t=THRESHOLD_ON_ACCOUNT,
        t=top_up.threshold,
        a_s="spendable",
        trip=top_up.threshold - account.hard_limit,
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
    import stripe

    customer = customer or ensure_customer(purchase.account_id)  # known from the claim's read, usually
    try:
        intent = stripe_api.client().v1.payment_intents.create(
            {
                "amount": purchase.amount,
                "currency": purchase.currency,
                "customer": customer,
                "payment_method": str(purchase.payment_method_id),
                "off_session": True,
                "confirm": True,
                "description": f"Auto top-up: {purchase.credits:,} credits",
                "metadata": {
                    "account_id": purchase.account_id,
                    "purchase_id": purchase.id,
                    "credits": str(purchase.credits),
                    "kind": AUTO_TOP_UP,
                },
            },
            {"idempotency_key": purchase.id},
        )
    except stripe.CardError as error:
        return _declined(purchase, error, now)
    except stripe.InvalidRequestError as error:  # e.g. the saved card was detached: counted, like a decline
        return _declined(purchase, error, now)
    except stripe.StripeError as error:  # unreachable or failing: the outcome is unknown, the claim stays
        raise PaymentProviderError(
            f"Stripe did not answer the auto top-up charge: {error.__class__.__name__}",
            purchase_id=purchase.id,
        ) from error
    return record(purchase, stripe_api.as_dict(intent), now)


def record(purchase: Purchase, intent: dict[str, Any], now: datetime) -> Started:
    """Record what the top-up's PaymentIntent says now."""
    status = intent.get("status")
    if status == "succeeded":
        payment.payment_succeeded(intent, paid_at=now, now=now)
        return Started(purchase.id, "succeeded")
    if status == "processing":
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
    if status == "requires_action" and not intent.get("last_payment_error"):
        intent = {
            **intent,
            "last_payment_error": {
                "code": "authentication_required",
                "message": "the card needs the customer to authenticate this charge",
            },
        }
        _cancel(str(intent["id"]))
    payment.payment_failed({**intent, "object": "payment_intent"}, now=now)
    return Started(purchase.id, "failed")


def _declined(purchase: Purchase, error: stripe.StripeError, now: datetime) -> Started:
    body: Any = error.json_body or {}
    raw: dict[str, Any] = body.get("error") or {} if isinstance(body, dict) else {}
    named = raw.get("payment_intent")  # Stripe names the declined PaymentIntent: an object, or its id
    intent: dict[str, Any] = (
        dict(named) if isinstance(named, dict) else {"id": named} if isinstance(named, str) else {}
    )
    failure = {
        "code": error.code or raw.get("code") or "card_declined",
        "message": raw.get("message") or error.user_message or "the card was declined",
        "decline_code": raw.get("decline_code"),
    }
    payment.payment_failed(
        {
            **intent,
            "object": "payment_intent",
            "id": intent.get("id"),
            "metadata": {"account_id": purchase.account_id, "purchase_id": purchase.id},
            "last_payment_error": failure,
        },
        now=now,
    )
    return Started(purchase.id, "failed")


def _cancel(intent_id: str) -> None:
    """Cancel a charge that waits for the customer: it must not complete later, unseen."""
    import stripe

    try:
        stripe_api.client().v1.payment_intents.cancel(intent_id)
    except stripe.StripeError:
        logger.warning("could not cancel a PaymentIntent that requires action", payment_intent=intent_id)


def resume(top_up: TopUp, now: datetime) -> Started:
    """Settle a stale top-up in flight without charging twice."""
    assert top_up.in_flight is not None
    purchase = get_purchase_item(top_up.account_id, top_up.in_flight)
    if purchase is None:  # the claim never committed its purchase: impossible in one transaction
        raise RuntimeError(f"top-up {top_up.in_flight} is in flight without its purchase")
    if purchase.payment_intent_id:
        with stripe_api.errors():
            found = stripe_api.client().v1.payment_intents.retrieve(purchase.payment_intent_id)
        return record(purchase, stripe_api.as_dict(found), now)
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

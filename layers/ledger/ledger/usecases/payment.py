"""What Stripe's confirmations do to purchases: credit once, record failures, claw back refunds and
disputes, restore disputes won. Each outcome is exactly once however often and in whatever order Stripe
delivers: credits are keyed by the purchase, refunds by the charge's cumulative refunded amount, disputes
by their id, and every purchase update commits in the same transaction as its ledger change."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ledger import settings
from ledger.domain import disputes
from ledger.domain.changes import iso, utcnow
from ledger.domain.errors import Busy, InvalidRequest
from ledger.domain.purchase import AUTO_TOP_UP, Purchase
from ledger.events.models import CreditAutoRechargeTriggered, CreditPurchaseFailed, CreditsPurchased
from ledger.events.outbox import notification_put
from ledger.payments import gateway
from ledger.runtime.log import Logger
from ledger.store import table
from ledger.store.purchases import find_payment, get_purchase_item, payment_put
from ledger.store.schema import account_key, purchase_key
from ledger.store.writes import Cancelled, Expr, transact
from ledger.usecases import top_up_outcome
from ledger.usecases.clawback import clawback
from ledger.usecases.grant import grant, grant_id

logger = Logger()

Result = Literal[
    "credited", "clawed_back", "restored", "recorded", "failed", "mismatch", "duplicate", "ignored"
]
RACE_RETRIES = 10


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    purchase_id: str | None = None
    credits: int = 0


def purchase_expiry(paid_at: datetime) -> datetime | None:
    days = settings.purchase_credit_expiry_days()
    return paid_at + timedelta(days=days) if days else None


def _purchase_of(obj: dict[str, Any], payment_intent_id: str | None = None) -> Purchase | None:
    """Our purchase that a Stripe object pays for: by its metadata, else by the PaymentIntent it belongs to."""
    meta = obj.get("metadata") or {}
    if meta.get("account_id") and meta.get("purchase_id"):
        ref: tuple[str, str] | None = (meta["account_id"], meta["purchase_id"])
    elif payment_intent_id:
        ref = find_payment(payment_intent_id) or _ask_stripe(payment_intent_id)
    else:
        ref = None
    if ref is None:
        return None
    try:
        return get_purchase_item(*ref)
    except InvalidRequest:  # an account id we could never have written: not ours
        return None


def _ask_stripe(payment_intent_id: str) -> tuple[str, str] | None:
    """A PaymentIntent we have no record of (a Checkout payment not yet confirmed to us): its metadata.

    One Stripe does not know (``resource_missing``) is not ours: None, so the event is ignored, not retried."""
    if not payment_intent_id.startswith("pi_"):
        return None
    intent = gateway.find_payment_intent(payment_intent_id)
    if intent is None:
        return None
    meta = intent.get("metadata") or {}
    return (meta["account_id"], meta["purchase_id"]) if meta.get("purchase_id") else None


def payment_succeeded(obj: dict[str, Any], paid_at: datetime, now: datetime | None = None) -> Outcome:
    """A PaymentIntent succeeded or a Checkout Session was paid: grant the purchase's credits, once."""
    now = now or utcnow()
    is_session = obj.get("object") == "checkout.session"
    purchase = _purchase_of(obj)
    if purchase is None:
        return Outcome("ignored")
    if is_session:
        paid, intent_id = obj.get("amount_total"), obj.get("payment_intent")
    else:  # amount_received is what was paid; mocks that omit it report the amount of a succeeded intent
        paid, intent_id = obj.get("amount_received", obj.get("amount")), obj.get("id")
    currency = str(obj.get("currency", "")).lower()
    if (paid, currency) != (purchase.amount, purchase.currency):
        logger.error(
            "payment does not match the purchase's price: nothing granted",
            purchase_id=purchase.id,
            paid=paid,
            currency=currency,
            price=purchase.amount,
            price_currency=purchase.currency,
            stripe_id=obj.get("id"),
        )
        mismatch = {"stripe_id": obj.get("id"), "amount": paid, "currency": currency, "at": iso(now)}
        failure = {"code": "amount_mismatch", "message": "the amount paid differs from the price"}
        notices = _failed(purchase, failure, intent_id if not is_session else None, now)
        with suppress(Cancelled):  # a purchase already paid correctly stays so
            _update_purchase(
                purchase, _not_paid(Expr().set("mismatch", mismatch).set("failure", failure)), *notices
            )
        return Outcome("mismatch", purchase.id)
    key = f"purchase-{purchase.id}"
    update = Expr().set("paid", True).set("paid_at", iso(paid_at)).remove("failure")
    update.set("grant_id", grant_id(purchase.account_id, key))  # purchase and grant link both ways
    if intent_id:
        update.set("payment_intent_id", intent_id)
    also = [update.when("attribute_exists(pk)").update(purchase_key(purchase.account_id, purchase.id))]
    if intent_id and (is_session or purchase.mode == AUTO_TOP_UP):
        also.append(payment_put(str(intent_id), purchase.account_id, purchase.id))
    if purchase.mode == AUTO_TOP_UP:
        triggered = CreditAutoRechargeTriggered(**_announced(purchase, intent_id))
        also.append(notification_put(purchase.account_id, CreditAutoRechargeTriggered.name, triggered, now))
        source, description = "auto_top_up", f"Auto top-up of {purchase.credits:,} credits"
        release = [top_up_outcome.succeeded(purchase, now)]
    else:
        bought = CreditsPurchased(**_announced(purchase, intent_id))
        also.append(notification_put(purchase.account_id, CreditsPurchased.name, bought, now))
        source, description, release = "purchase", f"Purchase of {purchase.credits:,} credits", []

    def credit(also: list[dict[str, Any]]) -> Any:
        return grant(
            purchase.account_id,
            purchase.credits,
            source,
            key,
            # counted from when the credits arrive: a confirmation Stripe delivers late still gives them
            # their whole time (an expiry counted from the payment could have passed already)
            expires_at=purchase_expiry(max(paid_at, now)),
            description=description,
            reference=str(obj.get("id")),
            now=now,
            also=also,
            identity={"purchase_id": purchase.id},  # confirmations of one payment differ in time and object
        )

    try:
        made = credit(also + release)
    except Cancelled as cancelled:
        if not release or not cancelled.failed(2 + len(also)):
            raise
        # the top-up's claim was already released (its outcome recorded otherwise): the money was taken,
        # so the credits are granted all the same
        logger.warning("auto top-up paid after its claim was released", purchase_id=purchase.id)
        made = credit(also)
    _remember_payment(purchase.account_id, paid_at, obj.get("payment_method") if not is_session else None)
    return Outcome("duplicate" if made.result.replayed else "credited", purchase.id, purchase.credits)


def payment_failed(obj: dict[str, Any], now: datetime | None = None) -> Outcome:
    """The payment failed: the purchase records Stripe's reason, unless a payment already succeeded."""
    now = now or utcnow()
    purchase = _purchase_of(obj)
    if purchase is None:
        return Outcome("ignored")
    error = obj.get("last_payment_error") or {}
    failure = {
        "code": error.get("code") or "payment_failed",
        "message": error.get("message") or "the payment did not complete",
        "decline_code": error.get("decline_code"),
    }
    intent = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    try:
        _update_purchase(
            purchase, _not_paid(Expr().set("failure", failure)), *_failed(purchase, failure, intent, now)
        )
    except Cancelled:
        return Outcome("duplicate", purchase.id)
    return Outcome("failed", purchase.id)


def charge_refunded(charge: dict[str, Any], now: datetime | None = None) -> Outcome:
    """Claw back the credits of the newly refunded share (``amount_refunded`` is cumulative)."""
    now = now or utcnow()
    for _ in range(RACE_RETRIES):
        purchase = _purchase_of({}, charge.get("payment_intent"))
        if purchase is None:
            return Outcome("ignored")
        refunded = int(charge.get("amount_refunded", 0))
        if refunded <= purchase.refunded_amount:
            return Outcome("duplicate", purchase.id)
        credits = purchase.refund_clawback(refunded)
        update = _as_read(Expr(), purchase)  # what it takes follows from both
        update.set("refunded_amount", refunded).add("clawed_back", credits)
        action = update.update(purchase_key(purchase.account_id, purchase.id))
        try:
            if credits:
                clawback(
                    purchase.account_id,
                    credits,
                    "refund",
                    f"refund-{charge['id']}-{refunded}",
                    reference=str(charge["id"]),
                    description=f"Refund of purchase {purchase.id}",
                    also=[action],
                    now=now,
                )
            else:
                transact([action])
            return Outcome("clawed_back", purchase.id, credits)
        except Cancelled:
            continue  # another refund of this charge landed first: recompute from its figures
    raise Busy("the purchase kept changing while a refund was recorded")


def dispute_opened(dispute: dict[str, Any], now: datetime | None = None) -> Outcome:
    return _dispute(dispute, "created", now or utcnow())


def dispute_closed(dispute: dict[str, Any], now: datetime | None = None) -> Outcome:
    return _dispute(dispute, "closed", now or utcnow())


def _dispute(dispute: dict[str, Any], news: disputes.News, now: datetime) -> Outcome:
    """Open (or lost): claw back the disputed credits once. Won: give back what was clawed, once."""
    dispute_id = str(dispute["id"])
    for _ in range(RACE_RETRIES):
        purchase = _purchase_of({}, dispute.get("payment_intent"))
        if purchase is None:
            return Outcome("ignored")
        known = purchase.disputes.get(dispute_id)
        recorded = None if known is None else str(known.get("status"))
        step = disputes.on_news(recorded, news, dispute.get("status"))
        try:
            if step.action == "claw_back":
                credits = purchase.dispute_clawback(int(dispute.get("amount", 0)))
                return _dispute_first(purchase, dispute_id, step.status, credits, now)
            if step.action == "record_won":  # nothing was ever taken
                return _dispute_first(purchase, dispute_id, step.status, 0, now)
            if step.action == "restore":
                assert known is not None
                return _dispute_won(
                    purchase, dispute_id, step.status, purchase.dispute_restore(dispute_id), now
                )
            return Outcome("duplicate", purchase.id)
        except Cancelled:
            continue
    raise Busy("the purchase kept changing while a dispute was recorded")


def _dispute_first(purchase: Purchase, dispute_id: str, status: str, credits: int, now: datetime) -> Outcome:
    update = Expr().when("attribute_not_exists({a_d}.{a_id})", a_d="disputes", a_id=dispute_id)
    _as_read(update, purchase)  # what it takes follows from what refunds and disputes took
    update.set_path(("disputes", dispute_id), {"status": status, "credits": credits})
    update.add("clawed_back", credits)
    action = update.update(purchase_key(purchase.account_id, purchase.id))
    if not credits:
        transact([action])
        return Outcome("recorded", purchase.id)
    clawback(
        purchase.account_id,
        credits,
        "dispute",
        f"dispute-{dispute_id}",
        reference=dispute_id,
        description=f"Dispute of purchase {purchase.id}",
        also=[action],
        now=now,
    )
    return Outcome("clawed_back", purchase.id, credits)


def _dispute_won(purchase: Purchase, dispute_id: str, status: str, credits: int, now: datetime) -> Outcome:
    was = purchase.disputes[dispute_id]["status"]
    update = _as_read(Expr().path_is(("disputes", dispute_id, "status"), was), purchase)  # as for a clawback
    update.set_path(("disputes", dispute_id, "status"), status)
    update.set_path(("disputes", dispute_id, "restored"), credits)
    update.add("clawed_back", -credits)
    action = update.update(purchase_key(purchase.account_id, purchase.id))
    if not credits:
        transact([action])
        return Outcome("recorded", purchase.id)
    paid_at = purchase.paid_at
    expires = purchase_expiry(datetime.fromisoformat(paid_at.replace("Z", "+00:00"))) if paid_at else None
    grant(
        purchase.account_id,
        credits,
        "purchase",
        f"dispute-won-{dispute_id}",
        expires_at=expires if expires and expires > now else None,
        description=f"Dispute of purchase {purchase.id} won: credits restored",
        reference=dispute_id,
        now=now,
        entry_type="dispute",
        also=[action],
    )
    return Outcome("restored", purchase.id, credits)


def _as_read(expr: Expr, purchase: Purchase) -> Expr:
    """``expr`` conditioned on the refunded amount and the credits clawed back as ``purchase`` read them: what a
    refund or dispute takes or gives back follows from both, so a refund and a dispute of one payment recorded
    at once cannot both take the same credits, or one give back what the other needs taken. (The loser reads
    again.)"""
    expr.when("{a_r} = {r}", a_r="refunded_amount", r=purchase.refunded_amount)
    return expr.when("{a_c} = {c}", a_c="clawed_back", c=purchase.clawed_back)


def _update_purchase(purchase: Purchase, expr: Expr, *also: dict[str, Any]) -> None:
    key = purchase_key(purchase.account_id, purchase.id)
    transact([expr.when("attribute_exists(pk)").update(key), *also])


def _announced(purchase: Purchase, intent: Any) -> dict[str, Any]:
    """What every purchase notification says of the purchase and its PaymentIntent."""
    return {
        "account_id": purchase.account_id,
        "purchase_id": purchase.id,
        "credits": purchase.credits,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "payment_intent": intent if isinstance(intent, str) and intent else None,
    }


def _failed(purchase: Purchase, failure: dict[str, Any], intent: Any, now: datetime) -> list[dict[str, Any]]:
    """What a failure writes besides the purchase: the credit_purchase_failed outbox item and, for an auto
    top-up, its claim released with the failure counted (committed only with the failure they record)."""
    detail = CreditPurchaseFailed(
        **_announced(purchase, intent),
        reason=str(failure["message"]),
        decline_code=failure.get("decline_code"),
    )
    notice = notification_put(purchase.account_id, CreditPurchaseFailed.name, detail, now)
    if purchase.mode != AUTO_TOP_UP:
        return [notice]
    return [notice, *top_up_outcome.failed(purchase, failure, now)]


def _not_paid(expr: Expr) -> Expr:
    return expr.when("attribute_not_exists({a_paid}) OR {a_paid} = {no}", a_paid="paid", no=False)


def _remember_payment(account_id: str, paid_at: datetime, payment_method: Any) -> None:
    """last_payment_at and the saved card follow the newest payment, whatever order they are confirmed in."""
    at = iso(paid_at)  # ISO strings of one format order as their moments do
    expr = Expr().when("attribute_not_exists({a_t}) OR {a_t} <= {t}", a_t="last_payment_at", t=at)
    expr.set("last_payment_at", at)
    if isinstance(payment_method, str) and payment_method:
        expr.set("payment_method_id", payment_method)
    update = expr.update(account_key(account_id), return_old_on_failure=False)["Update"]
    with suppress(table.client().exceptions.ConditionalCheckFailedException):  # a later one is recorded
        table.client().update_item(**update)

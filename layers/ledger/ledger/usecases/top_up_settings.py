"""Auto top-up settings (owner/admin): read them; turn auto top-up on or off, with its threshold, amount and
payment method.

Turning it on needs a payment method Stripe can charge off-session: the one given (attached to the
account's Stripe customer here), else the one already set, else the card of the account's latest payment.
Turning it on again clears a ``disabled_reason`` and the failure count."""

from __future__ import annotations

from ledger.domain.errors import InvalidRequest, PaymentMethodRequired
from ledger.domain.top_up import PaymentMethod, TopUp, check_settings
from ledger.payments import gateway
from ledger.payments.catalog import catalog
from ledger.store import table
from ledger.store.schema import TOP_UP_INDEX_PK as INDEX_PK
from ledger.store.schema import account_key, top_up_key
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT, get_top_up, method_map
from ledger.store.writes import Expr, transact
from ledger.usecases.purchase import ensure_customer

MIN_CHARGE = 50  # minor units: Stripe refuses smaller card charges (US$0.50)


def get_settings(account_id: str) -> TopUp:
    table.account_pk(account_id)
    return get_top_up(account_id)


def put_settings(
    account_id: str,
    enabled: bool,
    threshold: int | None,
    amount: int | None,
    payment_method_id: str | None = None,
) -> TopUp:
    table.account_pk(account_id)
    current = get_top_up(account_id)
    threshold = current.threshold if threshold is None and not enabled else threshold
    amount = current.amount if amount is None and not enabled else amount
    check_settings(enabled, threshold, amount)
    method = current.payment_method
    if enabled:
        assert amount is not None
        if catalog().top_up_price(amount) < MIN_CHARGE:
            raise InvalidRequest(
                f"an auto top-up must cost at least {MIN_CHARGE} minor units of {catalog().currency}: "
                "raise the amount",
                min_charge=MIN_CHARGE,
            )
        method = _chargeable(account_id, payment_method_id, method)
    elif payment_method_id is not None:
        method = _chargeable(account_id, payment_method_id, method)
    expr = Expr().set("enabled", enabled).add("version", 1)  # a claim decided on the old settings fails
    if threshold is not None and amount is not None:
        expr.set("threshold", threshold).set("amount", amount)
    if method is not None:
        expr.set("payment_method", method_map(method))
    mirror = Expr().add("balance", 0).add("held", 0).add("spendable", 0)  # the account exists from here on
    if enabled:
        expr.set("top_up_pk", INDEX_PK).set("check_at", 0).set("failures", 0)
        expr.remove("disabled_reason").remove("retry_at")
        mirror.set(THRESHOLD_ON_ACCOUNT, threshold)
    else:
        if current.in_flight is None:  # a charge in flight stays where the safety net looks after it
            expr.remove("top_up_pk").remove("check_at")
        mirror.remove(THRESHOLD_ON_ACCOUNT)
    transact(
        [
            expr.update(top_up_key(account_id), return_old_on_failure=False),
            mirror.update(account_key(account_id), return_old_on_failure=False),
        ]
    )
    return get_top_up(account_id)


def _chargeable(account_id: str, given: str | None, current: PaymentMethod | None) -> PaymentMethod:
    """The payment method to charge, checked with Stripe to belong to the account's customer."""
    if given is None and current is not None:
        return current
    chosen = given or _last_paid_with(account_id)
    if not chosen:
        raise PaymentMethodRequired(
            "auto top-up needs a saved payment method: make a purchase first, or give payment_method_id"
        )
    customer = ensure_customer(account_id)
    card = gateway.save_card(chosen, customer)
    if card.customer != customer:
        raise PaymentMethodRequired("that payment method belongs to another customer")
    return PaymentMethod(id=card.id, brand=card.brand, last4=card.last4)


def _last_paid_with(account_id: str) -> str | None:
    item = table.get_item(account_id, table.ACCOUNT_SK, "payment_method_id")
    return str(item["payment_method_id"]) if item and item.get("payment_method_id") else None

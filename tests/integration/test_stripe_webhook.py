"""The Stripe webhook: signed deliveries credit a purchase exactly once, record failures, claw back refunds
and disputes (into debt if need be), and ignore what is not ours."""

from __future__ import annotations

import json
import time

import pytest
import stripe

import ledger
from devkit.bus import Notifications
from devkit.http import parse
from devkit.lambdas import invoke
from devkit.payments import pay, read_purchase, start_purchase, webhook
from devkit.stream import StreamPump
from devkit.stripe_events import charge, delivery, dispute, event, sign
from devkit.tables import scan
from ledger.domain.changes import iso, utcnow
from ledger.store import table as ledger_table
from tests.conftest import TABLE

pytestmark = pytest.mark.usefixtures("aws")


def paid_purchase(client: stripe.StripeClient, account: str = "acme", package: str = "credits-1000") -> tuple:
    made = start_purchase(account, package_id=package)
    return made, pay(client, made["payment_intent_id"])


def test_a_paid_purchase_is_credited_once_and_linked_both_ways(
    stripe_env: stripe.StripeClient, journal: StreamPump
) -> None:
    made, intent = paid_purchase(stripe_env)
    for _ in range(3):
        assert webhook("payment_intent.succeeded", intent)[0] == 200
    card = ledger.balance_card("acme")
    assert card.account.balance == 1000 and card.account.lifetime_added == 1000
    assert card.account.last_payment_at is not None
    [grant] = card.grants
    assert grant.source == "purchase"
    assert grant.expires_at is not None and 364 * 86400 < grant.expires_at - time.time() <= 365 * 86400
    bought = read_purchase("acme", made["purchase_id"])
    assert bought["status"] == "succeeded" and bought["grant_id"] == grant.id
    journal.pump()
    [entry] = ledger.history("acme").items
    assert (entry.type, entry.amount, entry.reference, entry.grant_id) == (
        "purchase",
        1000,
        intent["id"],
        grant.id,
    )


def test_purchased_credits_never_expire_when_the_deployment_says_so(
    stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURCHASE_CREDIT_EXPIRY_DAYS", "0")
    _, intent = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", intent)
    [grant] = ledger.balance_card("acme").grants
    assert grant.expires_at is None


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "t=1,v1=" + "0" * 64,
        "garbage",
        "t=1,v1=é",  # not ASCII: stripe's comparison of signatures would raise
    ],
)
def test_unsigned_or_forged_deliveries_are_refused_and_write_nothing(
    stripe_env: stripe.StripeClient, signature: str | None
) -> None:
    _, intent = paid_purchase(stripe_env)
    before = scan()
    payload = json.dumps(event("payment_intent.succeeded", intent))
    status, body = parse(invoke("stripe_webhook", delivery(payload, signature)))
    assert (status, body["error"]) == (400, "invalid_signature")
    assert scan() == before


def test_stale_and_replayed_deliveries_are_refused(stripe_env: stripe.StripeClient) -> None:
    _, intent = paid_purchase(stripe_env)
    before = scan()
    payload = json.dumps(event("payment_intent.succeeded", intent))
    stale = sign(payload, at=int(time.time()) - 301)
    assert parse(invoke("stripe_webhook", delivery(payload, stale)))[0] == 400
    # an old signature under a fresh timestamp: the timestamp is part of what is signed
    old_signature = stale.split(",v1=")[1]
    replayed = f"t={int(time.time())},v1={old_signature}"
    assert parse(invoke("stripe_webhook", delivery(payload, replayed)))[0] == 400
    forged_body = payload.replace('"amount": 1000', '"amount": 1')
    assert parse(invoke("stripe_webhook", delivery(forged_body, sign(payload))))[0] == 400
    assert scan() == before


def test_a_payment_that_does_not_match_the_price_grants_nothing(stripe_env: stripe.StripeClient) -> None:
    made, intent = paid_purchase(stripe_env)
    for wrong in ({**intent, "amount_received": 999}, {**intent, "currency": "eur"}):
        assert webhook("payment_intent.succeeded", wrong) == (200, {"received": True, "result": "mismatch"})
    assert ledger.balance_card("acme").account.balance == 0
    bought = read_purchase("acme", made["purchase_id"])
    assert bought["status"] == "failed" and bought["failure"]["code"] == "amount_mismatch"


def test_a_declined_card_fails_the_purchase_with_stripes_reason(stripe_env: stripe.StripeClient) -> None:
    made = start_purchase("acme", package_id="credits-1000")
    declined = pay(stripe_env, made["payment_intent_id"], "pm_card_chargeCustomerFail")
    assert webhook("payment_intent.payment_failed", declined)[1]["result"] == "failed"
    bought = read_purchase("acme", made["purchase_id"])
    assert bought["status"] == "failed"
    assert bought["failure"]["code"] == declined["last_payment_error"]["code"]
    assert ledger.balance_card("acme").account.balance == 0


def test_a_failure_delivered_after_the_success_does_not_undo_it(stripe_env: stripe.StripeClient) -> None:
    made, intent = paid_purchase(stripe_env)
    failed = {**intent, "status": "requires_payment_method", "last_payment_error": {"code": "card_declined"}}
    webhook("payment_intent.payment_failed", failed)  # an earlier attempt, delivered late
    webhook("payment_intent.succeeded", intent)
    webhook("payment_intent.payment_failed", failed)
    assert read_purchase("acme", made["purchase_id"])["status"] == "succeeded"
    assert ledger.balance_card("acme").account.balance == 1000


def test_partial_refunds_claw_back_pro_rata_once_each_in_any_order(stripe_env: stripe.StripeClient) -> None:
    made, intent = paid_purchase(stripe_env, package="credits-5000")  # 5,000 credits for 4,500
    webhook("payment_intent.succeeded", intent)
    # cumulative amount_refunded: 900 (1,000 credits), then 2,250 (2,500 credits in all), then all of it
    first, second, full = charge(intent, 900), charge(intent, 2250), charge(intent, 4500)
    for obj in (second, first, second, first):
        webhook("charge.refunded", obj)
    assert ledger.balance_card("acme").account.balance == 2500
    assert read_purchase("acme", made["purchase_id"])["status"] == "succeeded"
    for obj in (full, first, full):
        webhook("charge.refunded", obj)
    assert ledger.balance_card("acme").account.balance == 0
    bought = read_purchase("acme", made["purchase_id"])
    assert (bought["status"], bought["refunded_amount"], bought["credits_clawed_back"]) == (
        "refunded",
        4500,
        5000,
    )


def test_a_clawback_of_spent_credits_leaves_a_debt_that_blocks_debits(
    stripe_env: stripe.StripeClient, journal: StreamPump
) -> None:
    _, intent = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", intent)
    ledger.debit("acme", 700, operation="render", idempotency_key="job-1")
    webhook("charge.refunded", charge(intent, 1000))
    account = ledger.balance_card("acme").account
    assert account.balance == -700 and account.available == -700 and account.lifetime_clawed_back == 1000
    with pytest.raises(ledger.InsufficientCredits):
        ledger.debit("acme", 1, operation="render", idempotency_key="job-2")
    ledger.grant("acme", 1000, source="promotional", idempotency_key="welcome-back")
    assert ledger.balance_card("acme").account.balance == 300
    ledger.debit("acme", 300, operation="render", idempotency_key="job-3")
    journal.pump()
    types = [e.type for e in reversed(ledger.history("acme").items)]
    assert types == ["purchase", "consumption", "refund", "grant", "consumption"]


def test_a_dispute_claws_back_and_a_won_dispute_restores(stripe_env: stripe.StripeClient) -> None:
    made, intent = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", intent)
    opened = dispute(intent)
    for _ in range(2):
        webhook("charge.dispute.created", opened)
    assert ledger.balance_card("acme").account.balance == 0
    assert read_purchase("acme", made["purchase_id"])["status"] == "disputed"
    won = {**opened, "status": "won"}
    for _ in range(2):
        webhook("charge.dispute.closed", won)
    webhook("charge.dispute.created", opened)
    assert ledger.balance_card("acme").account.balance == 1000
    assert read_purchase("acme", made["purchase_id"])["status"] == "succeeded"


def credited_then_disputed(client: stripe.StripeClient, status: str) -> tuple[dict, dict, dict]:
    """A purchase paid and credited, then a dispute of it opened with ``status``: (purchase, intent, dispute)."""
    made, intent = paid_purchase(client)
    webhook("payment_intent.succeeded", intent)
    opened = dispute(intent, status=status)
    webhook("charge.dispute.created", opened)
    return made, intent, opened


@pytest.mark.parametrize(("refunded", "kept"), [(1000, 0), (500, 500)])
def test_a_refund_during_an_inquiry_stays_taken_when_the_inquiry_closes(
    stripe_env: stripe.StripeClient, journal: StreamPump, refunded: int, kept: int
) -> None:
    _, intent, inquiry = credited_then_disputed(stripe_env, "warning_needs_response")
    assert ledger.balance_card("acme").account.balance == 0
    webhook("charge.refunded", charge(intent, amount_refunded=refunded))  # its credits are taken already
    assert ledger.balance_card("acme").account.balance == 0
    webhook("charge.dispute.closed", {**inquiry, "status": "warning_closed"})
    assert ledger.balance_card("acme").account.balance == kept  # the refunded share is not given back
    journal.pump()
    assert ledger.reconcile_account("acme").drifts == []


def test_a_refund_recorded_while_an_inquiry_closes_is_not_given_back(
    stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refund lands between the closing's read of the purchase and its write: the closing reads again."""
    from ledger.usecases import payment

    _, intent, inquiry = credited_then_disputed(stripe_env, "warning_needs_response")
    read = payment._purchase_of
    refunds = [charge(intent, amount_refunded=1000)]

    def read_then_refund(obj: dict, payment_intent_id: str | None = None) -> object:
        found = read(obj, payment_intent_id)
        if refunds:
            assert webhook("charge.refunded", refunds.pop())[0] == 200
        return found

    monkeypatch.setattr(payment, "_purchase_of", read_then_refund)
    webhook("charge.dispute.closed", {**inquiry, "status": "warning_closed"})
    assert not refunds
    assert ledger.balance_card("acme").account.balance == 0


def test_a_dispute_of_a_status_we_do_not_know_is_taken_and_a_win_gives_it_back(
    stripe_env: stripe.StripeClient,
) -> None:
    made, _, opened = credited_then_disputed(stripe_env, "a_status_stripe_adds")
    assert ledger.balance_card("acme").account.balance == 0
    assert read_purchase("acme", made["purchase_id"])["status"] == "disputed"
    webhook("charge.dispute.closed", {**opened, "status": "won"})
    assert ledger.balance_card("acme").account.balance == 1000


def test_a_large_event_is_credited(stripe_env: stripe.StripeClient) -> None:
    """An event far larger than an API body (64 KB): Stripe's objects nest others and carry metadata."""
    _, intent = paid_purchase(stripe_env)
    payload = event("payment_intent.succeeded", {**intent, "description": "x" * 200_000})
    text = json.dumps(payload)
    status, body = parse(invoke("stripe_webhook", delivery(text, sign(text))))
    assert (status, body["result"]) == (200, "credited"), body


@pytest.mark.parametrize("created", [None, 0, -5, 300_000_000_000, 10**20, "two days ago"], ids=str)
def test_a_payment_confirmed_with_any_created_is_credited_for_its_whole_time(
    stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch, created: int | str | None
) -> None:
    """Stripe retries a confirmation for days: credits that last one day still last a day from when they
    arrive, and a ``created`` missing or no clock could hold counts as now."""
    monkeypatch.setenv("PURCHASE_CREDIT_EXPIRY_DAYS", "1")
    made, intent = paid_purchase(stripe_env)
    payload = event("payment_intent.succeeded", intent)
    if created is None:
        del payload["created"]
    else:
        payload["created"] = int(time.time()) - 2 * 86400 if created == "two days ago" else created
    text = json.dumps(payload)
    status, body = parse(invoke("stripe_webhook", delivery(text, sign(text))))
    assert (status, body["result"]) == (200, "credited"), body
    [grant] = ledger.balance_card("acme").grants
    assert grant.expires_at is not None and 86_000 < grant.expires_at - time.time() <= 86_400
    assert read_purchase("acme", made["purchase_id"])["paid_at"] <= iso(utcnow())  # never ahead of now


def test_a_lost_dispute_reported_before_it_opened_claws_back_once(stripe_env: stripe.StripeClient) -> None:
    _, intent = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", intent)
    opened = dispute(intent)
    webhook("charge.dispute.closed", {**opened, "status": "lost"})
    webhook("charge.dispute.created", opened)
    assert ledger.balance_card("acme").account.balance == 0


def test_events_we_do_not_act_on_or_do_not_own_are_acknowledged(stripe_env: stripe.StripeClient) -> None:
    _, intent = paid_purchase(stripe_env)
    assert webhook("customer.created", {"id": "cus_1", "object": "customer"}) == (
        200,
        {"received": True, "result": "ignored"},
    )
    foreign = {**intent, "metadata": {}, "id": "pi_not_ours"}
    assert webhook("payment_intent.succeeded", foreign)[1]["result"] == "ignored"
    assert ledger.balance_card("acme").account.balance == 0


def test_an_unavailable_ledger_answers_503_so_stripe_retries(
    stripe_env: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, intent = paid_purchase(stripe_env)
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    ledger_table.reset_client()
    status, body = webhook("payment_intent.succeeded", intent)
    assert (status, body["error"]) == (503, "service_unavailable")
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL")
    ledger_table.reset_client()
    assert webhook("payment_intent.succeeded", intent)[1]["result"] == "credited"  # Stripe's retry


def test_a_credited_purchase_is_announced_once(stripe_env: stripe.StripeClient) -> None:
    notifications = Notifications(TABLE)
    made, intent = paid_purchase(stripe_env, package="credits-5000")
    for _ in range(3):
        webhook("payment_intent.succeeded", intent)
    bought = [e["detail"] for e in notifications.pump() if e["detail-type"] == "credits_purchased"]
    assert len(bought) == 1
    assert {k: bought[0][k] for k in ("account_id", "purchase_id", "credits", "amount", "currency")} == {
        "account_id": "acme",
        "purchase_id": made["purchase_id"],
        "credits": 5000,
        "amount": 4500,
        "currency": "usd",
    }
    assert bought[0]["payment_intent"] == intent["id"]


def test_a_failed_payment_is_announced_with_stripes_reason_and_a_mismatch_too(
    stripe_env: stripe.StripeClient,
) -> None:
    notifications = Notifications(TABLE)
    made = start_purchase("acme", package_id="credits-1000")
    declined = pay(stripe_env, made["payment_intent_id"], "pm_card_chargeCustomerFail")
    for _ in range(2):
        webhook("payment_intent.payment_failed", declined)
    _, other = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", {**other, "amount_received": 1})
    failed = [e["detail"] for e in notifications.pump() if e["detail-type"] == "credit_purchase_failed"]
    assert [f["purchase_id"] for f in failed] == [made["purchase_id"], other["metadata"]["purchase_id"]]
    assert failed[0]["reason"] == declined["last_payment_error"]["message"]
    assert failed[1]["reason"] == "the amount paid differs from the price"


def test_a_failure_after_the_success_is_not_announced(stripe_env: stripe.StripeClient) -> None:
    notifications = Notifications(TABLE)
    _, intent = paid_purchase(stripe_env)
    webhook("payment_intent.succeeded", intent)
    webhook(
        "payment_intent.payment_failed", {**intent, "last_payment_error": {"message": "declined earlier"}}
    )
    assert "credit_purchase_failed" not in notifications.kinds()

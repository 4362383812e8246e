"""Reconciling payments against Stripe (localstripe): every payment of ours became its credits exactly once,
every credited purchase was paid, every refund was clawed back by the pro-rata rule; and exactly the planted
discrepancy is reported."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import stripe

from devkit.fake_stripe import FakeStripe, fake_stripe
from devkit.payments import pay, start_purchase, webhook
from devkit.stream import StreamPump
from devkit.stripe_events import dispute
from devkit.stripe_proxy import proxy
from ledger.store import table as ledger_table
from ledger.usecases.reconcile_payments import reconcile_payments

pytestmark = pytest.mark.usefixtures("aws")


def window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=5)


@pytest.fixture
def acme() -> str:
    """An account of its own: localstripe keeps every test's payments."""
    return f"acme-{uuid.uuid4().hex[:10]}"


def kinds(account: str) -> list[str]:
    return sorted(d.kind for d in reconcile_payments(*window(), [account]).drifts if d.account_id == account)


def paid(client: stripe.StripeClient, account: str, credit: bool = True) -> tuple[dict, dict]:
    made = start_purchase(account, package_id="credits-1000")
    intent = pay(client, made["payment_intent_id"])
    if credit:
        assert webhook("payment_intent.succeeded", intent)[0] == 200
    return made, intent


def test_paid_and_refunded_purchases_reconcile_clean(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    paid(stripe_env, acme)
    _, refunded = paid(stripe_env, acme)
    stripe_env.v1.refunds.create({"payment_intent": refunded["id"], "amount": 300})
    charge = stripe_env.v1.payment_intents.retrieve(refunded["id"]).to_dict()["latest_charge"]
    assert webhook("charge.refunded", charge)[0] == 200
    journal.pump()
    report = reconcile_payments(*window(), [acme])
    assert [d for d in report.drifts if d.account_id == acme] == []
    assert report.purchases == 2 and report.intents >= 2


def test_a_payment_whose_webhook_never_came_is_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    paid(stripe_env, acme, credit=False)
    journal.pump()
    assert kinds(acme) == ["payment_not_granted"]


def test_credits_granted_for_a_payment_stripe_never_took_are_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    made = start_purchase(acme, package_id="credits-1000")
    pending = stripe_env.v1.payment_intents.retrieve(made["payment_intent_id"]).to_dict()
    forged = {**pending, "status": "succeeded", "amount_received": pending["amount"]}  # signed, but untrue
    assert webhook("payment_intent.succeeded", forged)[0] == 200
    journal.pump()
    assert kinds(acme) == ["grant_without_payment"]


def test_a_refund_never_clawed_back_is_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    _, intent = paid(stripe_env, acme)
    stripe_env.v1.refunds.create({"payment_intent": intent["id"], "amount": 450})
    journal.pump()
    [drift] = [d for d in reconcile_payments(*window(), [acme]).drifts if d.account_id == acme]
    assert (drift.kind, drift.expected, drift.found) == ("refund_not_clawed_back", 450, 0)


def entries(account: str, prefix_type: str) -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    items = db.query(
        TableName=ledger_table.table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues=ledger_table.to_item({":pk": ledger_table.account_pk(account), ":e": "E#"}),
    )["Items"]
    return [i for i in items if (ledger_table.from_item(i) or {}).get("type") == prefix_type]


def test_a_refund_entry_of_other_credits_than_the_rule_gives_is_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    _, intent = paid(stripe_env, acme)
    stripe_env.v1.refunds.create({"payment_intent": intent["id"], "amount": 300})
    charge = stripe_env.v1.payment_intents.retrieve(intent["id"]).to_dict()["latest_charge"]
    webhook("charge.refunded", charge)
    journal.pump()
    [refund] = entries(acme, "refund")
    plain = ledger_table.from_item(refund) or {}
    boto3.client("dynamodb").put_item(
        TableName=ledger_table.table_name(),
        Item=ledger_table.to_item({**plain, "amount": plain["amount"] + 1}),
    )
    assert kinds(acme) == ["refund_pro_rata"]


def test_a_purchase_whose_grant_entry_is_missing_is_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str
) -> None:
    paid(stripe_env, acme)
    journal.pump()
    [grant] = entries(acme, "purchase")
    boto3.client("dynamodb").delete_item(
        TableName=ledger_table.table_name(), Key={"pk": grant["pk"], "sk": grant["sk"]}
    )
    assert kinds(acme) == ["grant_count"]


def test_payments_outside_the_window_or_not_ours_are_not_read(
    stripe_env: stripe.StripeClient, acme: str
) -> None:
    paid(stripe_env, acme, credit=False)
    stripe_env.v1.payment_intents.create({"amount": 500, "currency": "usd", "payment_method": "pm_card_visa"})
    later = datetime.now(UTC) + timedelta(hours=1)
    assert [
        d
        for d in reconcile_payments(later, later + timedelta(hours=1), [acme]).drifts
        if d.account_id == acme
    ] == []


@pytest.fixture
def disputes(
    stripe_env: stripe.StripeClient, localstripe_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeStripe]:
    """localstripe for payments, the fake for the disputes list (localstripe has none), behind one proxy."""
    with fake_stripe() as fake, proxy(localstripe_url, {"/v1/disputes": fake.url}) as front:
        monkeypatch.setenv("STRIPE_API_BASE", front.url)
        yield fake


def dispute_heard(
    client: stripe.StripeClient, account: str, disputes: FakeStripe, amount: int | None = None
) -> tuple[dict, dict]:
    """A paid purchase disputed at Stripe, the dispute's opening delivered to the webhook: (intent, dispute)."""
    _, intent = paid(client, account)
    opened = dispute(intent, amount=amount)
    disputes.disputes.append(opened)
    assert webhook("charge.dispute.created", opened)[0] == 200
    return intent, opened


def test_disputes_agree_with_stripe_and_their_clawbacks(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str, disputes: FakeStripe
) -> None:
    intent, opened = dispute_heard(stripe_env, acme, disputes, amount=450)
    journal.pump()
    assert kinds(acme) == []
    # Stripe closed it in the account's favour, the ledger never heard; and a second one it never heard of
    opened["status"] = "won"
    disputes.disputes.append(dispute(intent, amount=100))
    assert kinds(acme) == ["dispute_not_recorded", "dispute_status"]


def test_a_dispute_clawback_entry_that_differs_from_its_record_is_reported(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str, disputes: FakeStripe
) -> None:
    dispute_heard(stripe_env, acme, disputes)
    journal.pump()
    [entry] = entries(acme, "dispute")
    plain = ledger_table.from_item(entry) or {}
    boto3.client("dynamodb").put_item(
        TableName=ledger_table.table_name(),
        Item=ledger_table.to_item({**plain, "amount": plain["amount"] + 10}),
    )
    assert kinds(acme) == ["dispute_clawback"]


def test_a_dispute_won_after_its_clawback_agrees_with_its_entries(
    stripe_env: stripe.StripeClient, journal: StreamPump, acme: str, disputes: FakeStripe
) -> None:
    _, opened = dispute_heard(stripe_env, acme, disputes, amount=450)
    opened["status"] = "won"
    assert webhook("charge.dispute.closed", opened)[0] == 200
    journal.pump()
    assert len(entries(acme, "dispute")) == 2  # the clawback, and the credits given back
    assert kinds(acme) == []

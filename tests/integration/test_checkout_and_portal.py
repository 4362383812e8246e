"""Embedded Checkout purchases and the billing portal, with Stripe faked at the HTTP level (localstripe
has neither); Checkout's confirmations arrive as signed real-shaped events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import ledger
from devkit.fake_stripe import FakeStripe, fake_stripe
from devkit.http import owner
from devkit.lambdas import call
from devkit.payments import purchase, read_purchase, start_purchase, webhook
from devkit.stripe_events import WEBHOOK_SECRET, checkout_session
from devkit.tables import scan

pytestmark = pytest.mark.usefixtures("aws")
RETURN_URL = "https://app.example.com/billing/done"


@pytest.fixture
def stripe_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe() as fake:
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_fake")
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        yield fake


def test_a_checkout_purchase_opens_an_embedded_session_for_the_exact_price(stripe_api: FakeStripe) -> None:
    made = start_purchase("acme", credits=6_000, mode="checkout", return_url=RETURN_URL)
    assert (made["amount"], made["status"], made["mode"]) == (5_400, "pending", "checkout")
    assert made["client_secret"].startswith(made["checkout_session_id"])
    [request] = stripe_api.to("/v1/checkout/sessions")
    p = request.params
    assert request.headers["idempotency-key"] == made["purchase_id"]
    assert (p["mode"], p["ui_mode"], p["return_url"]) == ("payment", "embedded", RETURN_URL)
    assert (p["line_items[0][price_data][unit_amount]"], p["line_items[0][quantity]"]) == ("5400", "1")
    assert p["line_items[0][price_data][currency]"] == "usd"
    assert p["payment_intent_data[setup_future_usage]"] == "off_session"
    assert p["metadata[purchase_id]"] == made["purchase_id"] and p["metadata[credits]"] == "6000"
    assert p["payment_intent_data[metadata][account_id]"] == "acme"
    [customer] = stripe_api.to("/v1/customers")
    assert p["customer"] and customer.params["metadata[account_id]"] == "acme"
    assert ledger.balance_card("acme").account.balance == 0


def test_checkout_credits_once_whichever_confirmation_arrives(stripe_api: FakeStripe) -> None:
    made = start_purchase("acme", package_id="credits-1000", mode="checkout", return_url=RETURN_URL)
    session = checkout_session(made["checkout_session_id"], made)
    assert (
        webhook("checkout.session.completed", {**session, "payment_status": "unpaid"})[1]["result"]
        == "ignored"
    )
    assert ledger.balance_card("acme").account.balance == 0
    assert webhook("checkout.session.async_payment_succeeded", session)[1]["result"] == "credited"
    later = int(time.time()) + 7  # each confirmation is its own event, made at its own moment
    assert webhook("checkout.session.completed", session, created=later)[1]["result"] == "duplicate"
    assert ledger.balance_card("acme").account.balance == 1000
    bought = read_purchase("acme", made["purchase_id"])
    assert bought["status"] == "succeeded" and bought["payment_intent_id"] == session["payment_intent"]


def test_an_async_checkout_failure_fails_the_purchase(stripe_api: FakeStripe) -> None:
    made = start_purchase("acme", package_id="credits-1000", mode="checkout", return_url=RETURN_URL)
    session = checkout_session(made["checkout_session_id"], made, payment_status="unpaid")
    assert webhook("checkout.session.async_payment_failed", session)[1]["result"] == "failed"
    assert read_purchase("acme", made["purchase_id"])["status"] == "failed"


def test_a_checkout_paid_for_another_amount_grants_nothing(stripe_api: FakeStripe) -> None:
    made = start_purchase("acme", package_id="credits-1000", mode="checkout", return_url=RETURN_URL)
    session = checkout_session(made["checkout_session_id"], made, amount=100)
    assert webhook("checkout.session.completed", session)[1]["result"] == "mismatch"
    assert ledger.balance_card("acme").account.balance == 0


def portal(account: str, body: object, claims: dict[str, str] | None = None) -> tuple[int, dict]:
    params = {"account_id": account}
    return call(
        "billing_portal",
        "POST",
        "/accounts/{account_id}/billing-portal",
        params,
        body,
        claims or owner(account),
    )


def test_the_billing_portal_opens_for_the_accounts_customer(stripe_api: FakeStripe) -> None:
    for _ in range(2):
        status, body = portal("acme", {"return_url": RETURN_URL})
        assert status == 201 and body["url"].startswith("https://billing.stripe.com/")
    [customer] = stripe_api.to("/v1/customers")  # created on first use, then kept
    assert customer.params["metadata[account_id]"] == "acme"
    first, second = stripe_api.to("/v1/billing_portal/sessions")
    assert first.params == second.params == {"customer": first.params["customer"], "return_url": RETURN_URL}
    assert first.params["customer"].startswith("cus_")


def test_a_stripe_failure_is_a_502_and_records_no_purchase(stripe_api: FakeStripe) -> None:
    status, body = purchase("acme", {"package_id": "credits-1000"})  # the fake has no PaymentIntents: a 404
    assert (status, body["error"]) == (502, "payment_provider_error")
    assert [i["sk"]["S"] for i in scan()] == ["A"]  # only the account's Stripe customer was kept


@pytest.mark.parametrize(
    ("body", "claims", "status"),
    [
        ({}, None, 422),
        ({"return_url": "not a url"}, None, 422),
        ({"return_url": RETURN_URL}, owner("acme", "member"), 403),
        ({"return_url": RETURN_URL}, owner("other"), 403),
    ],
)
def test_bad_portal_requests_reach_no_stripe(
    stripe_api: FakeStripe, body: dict, claims: dict | None, status: int
) -> None:
    assert portal("acme", body, claims)[0] == status
    assert stripe_api.requests == []

"""Auto top-up settings: off by default; validated to the credit; only the account's owner or admin; turning it
on needs a payment method Stripe can charge off-session; a refused request changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

import ledger
from devkit.http import owner
from devkit.payments import pay, start_purchase, webhook
from devkit.top_up import enable, get_settings, put_settings

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def acme() -> str:
    return f"acme-{uuid.uuid4().hex[:8]}"


def test_auto_top_up_is_off_by_default(acme: str) -> None:
    status, settings = get_settings(acme)
    assert status == 200
    assert settings == {
        "enabled": False,
        "threshold": None,
        "amount": None,
        "payment_method": None,
        "disabled_reason": None,
        "failures": 0,
        "retry_at": None,
        "in_flight": False,
        "last_attempt_at": None,
        "last_result": None,
    }
    assert ledger.balance_card(acme).top_up.enabled is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "threshold": 1001, "amount": 1000}, None),  # threshold above the amount
        ({"enabled": True, "threshold": 100, "amount": 100_001}, "amount"),
        ({"enabled": True, "threshold": 100, "amount": 0}, "amount"),
        ({"enabled": True, "threshold": -1, "amount": 1000}, "threshold"),
        ({"enabled": True, "threshold": 100.0, "amount": 1000}, "threshold"),
        ({"enabled": True, "threshold": 100, "amount": 1000.5}, "amount"),
        ({"enabled": True, "threshold": "100", "amount": 1000}, "threshold"),
        ({"enabled": True, "threshold": True, "amount": 1000}, "threshold"),
        ({"enabled": "yes", "threshold": 100, "amount": 1000}, "enabled"),
        ({"enabled": True, "amount": 1000}, None),  # no threshold to turn it on with
        ({"threshold": 100, "amount": 1000}, "enabled"),
        ({"enabled": True, "threshold": 100, "amount": 1000, "colour": "red"}, "colour"),
        ({"enabled": True, "threshold": 100, "amount": 1000, "payment_method_id": "card_123"}, None),
    ],
)
def test_bad_settings_get_422_and_change_nothing(
    acme: str, stripe_env: stripe.StripeClient, body: dict[str, Any], field: str | None
) -> None:
    status, error = put_settings(acme, body)
    assert status == 422, error
    assert error["error"] == "invalid_request"
    if field:
        assert any(d["field"] == field for d in error["details"]), error
    assert get_settings(acme)[1]["enabled"] is False
    customers = stripe_env.v1.customers.list({"limit": 100}).auto_paging_iter()
    assert all(c.to_dict().get("metadata", {}).get("account_id") != acme for c in customers)


def test_a_price_below_stripes_smallest_charge_is_refused(acme: str, stripe_env: stripe.StripeClient) -> None:
    status, error = put_settings(acme, {"enabled": True, "threshold": 0, "amount": 49})  # 0.49 USD
    assert (status, error["error"], error["min_charge"]) == (422, "invalid_request", 50)
    assert enable(acme, threshold=0, amount=50, payment_method_id="pm_card_visa")["amount"] == 50


@pytest.mark.parametrize(
    ("claims", "status"), [(owner("acme", "member"), 403), (owner("someone-else"), 403), ({}, 403)]
)
def test_only_the_accounts_owner_or_admin_may_read_or_change_it(claims: dict[str, str], status: int) -> None:
    body = {"enabled": True, "threshold": 100, "amount": 1000, "payment_method_id": "pm_card_visa"}
    assert put_settings("acme", body, claims=claims)[0] == status
    assert get_settings("acme", claims=claims)[0] == status
    assert get_settings("acme")[1]["enabled"] is False


def test_an_admin_may_change_it(acme: str, stripe_env: stripe.StripeClient) -> None:
    body = {"enabled": True, "threshold": 100, "amount": 1000, "payment_method_id": "pm_card_visa"}
    status, settings = put_settings(acme, body, claims=owner(acme, "admin"))
    assert (status, settings["enabled"]) == (200, True)


def test_turning_it_on_without_a_saved_payment_method_is_409(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    status, error = put_settings(acme, {"enabled": True, "threshold": 100, "amount": 1000})
    assert (status, error["error"]) == (409, "payment_method_required")
    assert get_settings(acme)[1]["enabled"] is False


def test_a_payment_method_stripe_does_not_know_is_409(acme: str, stripe_env: stripe.StripeClient) -> None:
    body = {"enabled": True, "threshold": 100, "amount": 1000, "payment_method_id": "pm_nonexistent"}
    status, error = put_settings(acme, body)
    assert (status, error["error"]) == (409, "payment_method_required")
    assert get_settings(acme)[1]["enabled"] is False


def test_a_given_payment_method_is_attached_to_the_accounts_customer(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    settings = enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    assert settings["payment_method"]["brand"] == "visa" and settings["payment_method"]["last4"] == "4242"
    method = stripe_env.v1.payment_methods.retrieve(settings["payment_method"]["id"])
    customer = stripe_env.v1.customers.retrieve(method.customer)
    assert customer.metadata["account_id"] == acme


def test_the_card_of_the_latest_purchase_is_used_when_none_is_given(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    made = start_purchase(acme, package_id="credits-1000")
    intent = pay(stripe_env, made["payment_intent_id"])
    assert webhook("payment_intent.succeeded", intent)[0] == 200
    settings = enable(acme, threshold=200, amount=1000)  # no payment_method_id: the purchase's card
    assert (settings["payment_method"]["brand"], settings["payment_method"]["last4"]) == ("visa", "4242")
    method = stripe_env.v1.payment_methods.retrieve(settings["payment_method"]["id"])
    assert stripe_env.v1.customers.retrieve(method.customer).metadata["account_id"] == acme
    card = ledger.balance_card(acme)
    assert (card.top_up.enabled, card.top_up.threshold, card.top_up.amount) == (True, 200, 1000)


def test_the_balance_card_shows_auto_top_up_and_reports_low_at_its_threshold(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    from devkit.lambdas import call

    ledger.grant(acme, 300, "promotional", "welcome")
    enable(acme, threshold=500, amount=1000, payment_method_id="pm_card_visa")
    status, card = call(
        "balance", "GET", "/accounts/{account_id}/balance", {"account_id": acme}, claims=owner(acme)
    )
    assert status == 200
    assert card["auto_top_up"] == {"enabled": True, "threshold": 500, "amount": 1000, "disabled_reason": None}
    assert (card["low_balance"], card["low_balance_threshold"]) == (True, 500)


def test_turning_it_off_keeps_the_settings_and_stops_top_ups(
    acme: str, stripe_env: stripe.StripeClient
) -> None:
    enable(acme, threshold=100, amount=1000, payment_method_id="pm_card_visa")
    status, settings = put_settings(acme, {"enabled": False})
    assert status == 200
    assert (settings["enabled"], settings["threshold"], settings["amount"]) == (False, 100, 1000)
    ledger.grant(acme, 50, "promotional", "welcome")
    from ledger.usecases.top_up import top_up_if_due

    assert top_up_if_due(acme).result == "none"
    assert ledger.balance_card(acme).account.balance == 50

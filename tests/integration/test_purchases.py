"""Packages and purchases against localstripe: a purchase starts a Stripe payment and grants nothing."""

from __future__ import annotations

import json

import pytest
import stripe

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.payments import get_purchase, purchase
from devkit.tables import scan

pytestmark = pytest.mark.usefixtures("aws")


def intents_of(client: stripe.StripeClient, account: str) -> list[dict]:
    every = [i.to_dict() for i in client.v1.payment_intents.list({"limit": 100}).data]
    return [i for i in every if i.get("metadata", {}).get("account_id") == account]


def test_packages_list_the_default_catalog() -> None:
    status, body = parse(
        invoke("packages", http_event("GET", "/packages", {}, claims=owner("acme", "member")))
    )
    assert status == 200
    assert body["items"][0] == {"id": "credits-1000", "credits": 1000, "price": 1000, "currency": "usd"}
    assert [p["credits"] for p in body["items"]] == [1000, 5000, 20000, 100000]
    assert body["custom"]["min_credits"] == 100 and body["custom"]["max_credits"] == 100_000
    assert body["custom"]["tiers"][1] == {"from_credits": 5000, "price_per_1000": 900}


def test_a_deployment_sets_its_own_catalog_and_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = {
        "packages": [{"id": "starter", "credits": 500, "price": 600}],
        "custom": {
            "min_credits": 50,
            "max_credits": 1000,
            "tiers": [{"from_credits": 1, "price_per_1000": 1300}],
        },
    }
    monkeypatch.setenv("CREDIT_CATALOG", json.dumps(catalog))
    monkeypatch.setenv("CURRENCY", "eur")
    _, body = parse(invoke("packages", http_event("GET", "/packages", {}, claims=owner("acme"))))
    assert body["items"] == [{"id": "starter", "credits": 500, "price": 600, "currency": "eur"}]
    assert body["currency"] == "eur" and body["custom"]["max_credits"] == 1000


def test_a_package_purchase_starts_a_payment_intent_and_grants_nothing(
    stripe_env: stripe.StripeClient,
) -> None:
    status, body = purchase("acme", {"package_id": "credits-5000"})
    assert status == 201, body
    assert (body["credits"], body["amount"], body["currency"], body["status"]) == (
        5000,
        4500,
        "usd",
        "pending",
    )
    assert body["client_secret"].startswith(body["payment_intent_id"] + "_secret_")
    [intent] = [i for i in intents_of(stripe_env, "acme") if i["id"] == body["payment_intent_id"]]
    assert intent["amount"] == 4500 and intent["currency"] == "usd"
    assert intent["metadata"] == {"account_id": "acme", "purchase_id": body["purchase_id"], "credits": "5000"}
    assert intent["setup_future_usage"] == "off_session"
    assert ledger.balance_card("acme").account.balance == 0
    assert get_purchase("acme", body["purchase_id"])[1]["status"] == "pending"


def test_custom_amounts_are_priced_by_their_tier_never_above_a_larger_offer(
    stripe_env: stripe.StripeClient,
) -> None:
    for credits, price in [
        (100, 100),
        (4_999, 4_500),
        (5_000, 4_500),
        (20_001, 16_001),
        (99_999, 70_000),
        (100_000, 70_000),
    ]:
        status, body = purchase("tiers", {"credits": credits})
        assert status == 201 and body["amount"] == price, (credits, body)


def test_the_stripe_customer_is_created_once_and_kept(stripe_env: stripe.StripeClient) -> None:
    purchase("keeper", {"package_id": "credits-1000"})
    purchase("keeper", {"credits": 300})
    customers = {i["customer"] for i in intents_of(stripe_env, "keeper")}
    assert len(customers) == 1 and None not in customers
    [customer] = customers
    assert stripe_env.v1.customers.retrieve(customer).metadata["account_id"] == "keeper"


@pytest.mark.parametrize(
    ("body", "claims", "status", "code"),
    [
        ({"package_id": "credits-999"}, None, 404, "not_found"),
        ({"credits": 99}, None, 422, "invalid_request"),
        ({"credits": 100_001}, None, 422, "invalid_request"),
        ({"credits": 500.0}, None, 422, "invalid_request"),
        ({"credits": "500"}, None, 422, "invalid_request"),
        ({}, None, 422, "invalid_request"),
        ({"package_id": "credits-1000", "credits": 500}, None, 422, "invalid_request"),
        ({"package_id": "credits-1000", "mode": "checkout"}, None, 422, "invalid_request"),
        ({"package_id": "credits-1000", "mode": "invoice"}, None, 422, "invalid_request"),
        ({"package_id": "credits-1000"}, owner("refused", "member"), 403, "forbidden"),
        ({"package_id": "credits-1000"}, owner("someone-else"), 403, "forbidden"),
    ],
)
def test_bad_purchases_create_nothing_at_stripe_or_in_the_ledger(
    stripe_env: stripe.StripeClient, body: dict, claims: dict | None, status: int, code: str
) -> None:
    customers_before = len(stripe_env.v1.customers.list({"limit": 100}).data)
    intents_before = len(stripe_env.v1.payment_intents.list({"limit": 100}).data)
    got, answer = purchase("refused", body, claims)
    assert (got, answer["error"]) == (status, code), answer
    assert len(stripe_env.v1.customers.list({"limit": 100}).data) == customers_before
    assert len(stripe_env.v1.payment_intents.list({"limit": 100}).data) == intents_before
    assert scan() == []


def test_a_purchase_is_read_only_by_its_own_account(stripe_env: stripe.StripeClient) -> None:
    _, body = purchase("acme", {"package_id": "credits-1000"})
    assert get_purchase("other", body["purchase_id"], owner("other"))[0] == 404
    assert get_purchase("acme", body["purchase_id"], owner("other"))[0] == 403
    assert get_purchase("acme", body["purchase_id"], owner("acme", "member"))[0] == 403
    assert get_purchase("acme", "pur_missing")[1]["error"] == "not_found"


@pytest.mark.parametrize(
    "authorizer",
    [None, {}, {"iam": True}, {"jwt": {"claims": {}}}, {"jwt": None}],
    ids=["none", "empty", "iam", "no-claims", "jwt-null"],
)
def test_packages_are_for_signed_in_users_only(authorizer: dict | None) -> None:
    """API Gateway's JWT authorizer stands in front; the function refuses what did not pass one as well."""
    event = http_event("GET", "/packages", {}, claims=owner("acme"))
    event["requestContext"]["authorizer"] = authorizer
    status, body = parse(invoke("packages", event))
    assert (status, body["error"]) == (403, "forbidden")

"""Who may call what: account routes take the account's owner or admin (JWT), service routes take IAM.

A refusal is the same 403 whether or not the account exists, and it writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from devkit.http import ACCOUNT_CLAIM, ROLE_CLAIM, http_event, owner, parse
from devkit.lambdas import invoke
from devkit.tables import scan as scan_table
from ledger.domain.changes import digest
from ledger.store import table as ledger_table
from tests.conftest import TABLE, create_table, isolated_environment

ACCOUNT = "acme"
UNSEEN = "never-seen"
HOLD_KEY = "seed-hold"


def hold_id(account: str) -> str:
    return "hold_" + digest(account, "hold", HOLD_KEY)


def scan() -> list[dict[str, Any]]:
    return scan_table(TABLE)


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None

    def event(self, account: str, claims: dict[str, str] | None = None, iam: bool = False) -> dict[str, Any]:
        params = {"account_id": account}
        if "{hold_id}" in self.path:
            params["hold_id"] = hold_id(account)
        return http_event(self.method, self.path, params, self.body, query=self.query, claims=claims, iam=iam)


ACCOUNT_ROUTES = {
    "get-balance": Route("balance", "GET", "/accounts/{account_id}/balance"),
    "get-transactions": Route(
        "transactions", "GET", "/accounts/{account_id}/transactions", query={"limit": "10"}
    ),
    "get-usage": Route(
        "usage_report",
        "GET",
        "/accounts/{account_id}/usage",
        query={"from": "2026-01-01", "to": "2026-01-31"},
    ),
    "get-limits": Route("limits", "GET", "/accounts/{account_id}/limits"),
    "put-limits": Route(
        "limits", "PUT", "/accounts/{account_id}/limits", {"low_balance_threshold": 50, "hard_limit": 0}
    ),
}
SERVICE_ROUTES = {
    "post-usage": Route(
        "debit",
        "POST",
        "/accounts/{account_id}/usage",
        {"amount": 5, "operation": "render", "idempotency_key": "d"},
    ),
    "post-hold": Route(
        "holds", "POST", "/accounts/{account_id}/holds", {"amount": 5, "idempotency_key": "h"}
    ),
    "post-capture": Route("holds", "POST", "/accounts/{account_id}/holds/{hold_id}/capture", {"amount": 5}),
    "post-release": Route("holds", "POST", "/accounts/{account_id}/holds/{hold_id}/release"),
    "get-hold": Route("holds", "GET", "/accounts/{account_id}/holds/{hold_id}"),
    "post-grant": Route(
        "grants",
        "POST",
        "/accounts/{account_id}/grants",
        {"amount": 5, "source": "promotional", "idempotency_key": "g"},
    ),
    "post-adjustment": Route(
        "adjustments",
        "POST",
        "/accounts/{account_id}/adjustments",
        {"amount": -5, "reason": "fix", "idempotency_key": "adj"},
    ),
    "post-usage-batch": Route(
        "usage_batch",
        "POST",
        "/usage/batch",
        {"events": [{"account_id": "acme", "amount": 5, "operation": "render", "idempotency_key": "b"}]},
    ),
}

# Callers that must be refused on /accounts/acme/...: claims (None: no JWT at all), and IAM context or not.
REFUSED_CALLERS: dict[str, tuple[dict[str, str] | None, bool]] = {
    "member": (owner(ACCOUNT, "member"), False),
    "viewer": (owner(ACCOUNT, "viewer"), False),
    "foreign-owner": (owner("other"), False),
    "foreign-admin": (owner("other", "admin"), False),
    "no-claims": (None, False),
    "empty-claims": ({}, False),
    "no-role-claim": ({ACCOUNT_CLAIM: ACCOUNT, "sub": "u"}, False),
    "no-account-claim": ({ROLE_CLAIM: "owner", "sub": "u"}, False),
    "service-iam-only": (None, True),
}


def seed(account: str) -> None:
    """1000 credits and an open hold of 100."""
    grant = {"amount": 1000, "source": "purchase", "idempotency_key": "seed"}
    event = http_event("POST", "/accounts/{account_id}/grants", {"account_id": account}, grant, iam=True)
    assert call("grants", event)[0] == 201
    hold = {"amount": 100, "idempotency_key": HOLD_KEY}
    event = http_event("POST", "/accounts/{account_id}/holds", {"account_id": account}, hold, iam=True)
    assert call("holds", event)[1]["hold_id"] == hold_id(account)


@pytest.fixture(scope="module")
def _shared_table() -> Iterator[None]:
    """One table for the module: acme has credits and an open hold; never-seen has nothing."""
    with isolated_environment(), mock_aws():
        create_table()
        seed(ACCOUNT)
        yield


@pytest.fixture
def seeded(_shared_table: None) -> None:
    ledger_table.reset_client()


def call(function: str, event: dict[str, Any]) -> tuple[int, Any]:
    return parse(invoke(function, event))


def assert_forbidden_without_writing(function: str, event: dict[str, Any]) -> dict[str, Any]:
    before = scan()
    response = invoke(function, event)
    status, body = parse(response)
    assert status == 403, body
    assert set(body) == {"error", "message"} and body["error"] == "forbidden"
    assert scan() == before
    return response


@pytest.mark.parametrize("route", list(ACCOUNT_ROUTES))
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_account_owner_and_admin_are_allowed(seeded: None, route: str, role: str) -> None:
    r = ACCOUNT_ROUTES[route]
    status, body = call(r.function, r.event(ACCOUNT, claims=owner(ACCOUNT, role)))
    assert status == 200, body
    if route == "get-balance":
        assert (body["account_id"], body["balance"], body["held"]) == (ACCOUNT, 1000, 100)


@pytest.mark.parametrize("route", list(ACCOUNT_ROUTES))
@pytest.mark.parametrize("caller", list(REFUSED_CALLERS))
def test_account_routes_refuse_everyone_else(seeded: None, route: str, caller: str) -> None:
    r = ACCOUNT_ROUTES[route]
    claims, iam = REFUSED_CALLERS[caller]
    assert_forbidden_without_writing(r.function, r.event(ACCOUNT, claims=claims, iam=iam))


@pytest.mark.parametrize("route", list(ACCOUNT_ROUTES))
@pytest.mark.parametrize("caller", ["member", "foreign-owner", "no-claims"])
def test_refusal_does_not_reveal_whether_the_account_exists(seeded: None, route: str, caller: str) -> None:
    r = ACCOUNT_ROUTES[route]
    claims, iam = REFUSED_CALLERS[caller]
    if caller == "member":  # a member of each account, asking about it
        existing_claims, unseen_claims = owner(ACCOUNT, "member"), owner(UNSEEN, "member")
    else:
        existing_claims = unseen_claims = claims
    existing = assert_forbidden_without_writing(r.function, r.event(ACCOUNT, claims=existing_claims, iam=iam))
    unseen = assert_forbidden_without_writing(r.function, r.event(UNSEEN, claims=unseen_claims, iam=iam))
    assert existing == unseen


@pytest.mark.parametrize("route", list(SERVICE_ROUTES))
@pytest.mark.parametrize(
    "claims",
    [None, owner(ACCOUNT), owner(ACCOUNT, "admin")],
    ids=["no-authorizer", "jwt-owner", "jwt-admin"],
)
def test_service_routes_refuse_calls_without_iam(seeded: None, route: str, claims: dict | None) -> None:
    r = SERVICE_ROUTES[route]
    assert_forbidden_without_writing(r.function, r.event(ACCOUNT, claims=claims))


@pytest.mark.parametrize("route", list(SERVICE_ROUTES))
def test_service_routes_refuse_an_empty_iam_context(seeded: None, route: str) -> None:
    r = SERVICE_ROUTES[route]
    event = r.event(ACCOUNT)
    event["requestContext"]["authorizer"] = {"iam": {}}
    assert_forbidden_without_writing(r.function, event)


@pytest.mark.parametrize("route", list(SERVICE_ROUTES))
def test_service_refusal_does_not_reveal_whether_the_account_exists(seeded: None, route: str) -> None:
    r = SERVICE_ROUTES[route]
    existing = assert_forbidden_without_writing(r.function, r.event(ACCOUNT, claims=owner(ACCOUNT)))
    unseen = assert_forbidden_without_writing(r.function, r.event(UNSEEN, claims=owner(UNSEEN)))
    assert existing == unseen


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("get-hold", 200),
        ("post-usage", 201),
        ("post-hold", 201),
        ("post-grant", 201),
        ("post-capture", 200),
        ("post-release", 200),
    ],
)
def test_service_routes_accept_iam(seeded: None, route: str, status: int) -> None:
    account = f"svc-{route}"  # its own account: the shared one stays as seeded
    seed(account)
    r = SERVICE_ROUTES[route]
    code, body = call(r.function, r.event(account, iam=True))
    assert code == status, body

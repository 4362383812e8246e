"""Every request passes the gate before its route: callers first (403 before any 422), then a body the route
can read (415, 413, 400, 422 in the ledger's error shape; never a 500)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from ledger.store import table as ledger_table
from tests.conftest import create_table, isolated_environment

ACCOUNT = "acme"
P = {"account_id": ACCOUNT}
# every route with a body: (function, method, route, path parameters, JWT or IAM, a valid body)
BODY_ROUTES = [
    (
        "debit",
        "POST",
        "/accounts/{account_id}/usage",
        P,
        False,
        {"amount": 1, "operation": "x", "idempotency_key": "k"},
    ),
    ("holds", "POST", "/accounts/{account_id}/holds", P, False, {"amount": 1, "idempotency_key": "k"}),
    (
        "holds",
        "POST",
        "/accounts/{account_id}/holds/{hold_id}/capture",
        {**P, "hold_id": "hold_x"},
        False,
        {},
    ),
    (
        "grants",
        "POST",
        "/accounts/{account_id}/grants",
        P,
        False,
        {"amount": 1, "source": "promotional", "idempotency_key": "k"},
    ),
    (
        "limits",
        "PUT",
        "/accounts/{account_id}/limits",
        P,
        True,
        {"low_balance_threshold": 1, "hard_limit": 0},
    ),
    (
        "auto_top_up_settings",
        "PUT",
        "/accounts/{account_id}/auto-top-up",
        P,
        True,
        {"enabled": False, "threshold": 1, "amount": 100},
    ),
    ("purchase", "POST", "/accounts/{account_id}/purchases", P, True, {"credits": 100}),
    (
        "billing_portal",
        "POST",
        "/accounts/{account_id}/billing-portal",
        P,
        True,
        {"return_url": "https://example.com"},
    ),
]
IDS = [f"{r[1]} {r[2]}" for r in BODY_ROUTES]
ACCOUNT_BODY_ROUTES = [r for r in BODY_ROUTES if r[4]]


@pytest.fixture(scope="module")
def _table() -> Iterator[None]:
    with isolated_environment(), mock_aws():
        create_table()
        yield


@pytest.fixture
def table(_table: None) -> None:
    ledger_table.reset_client()


def call(
    route: tuple, raw_body: str, content_type: str = "application/json", claims: dict | None = None
) -> tuple[int, Any]:
    function, method, path, params, jwt, _ = route
    auth: dict[str, Any] = {"claims": claims or owner(ACCOUNT)} if jwt else {"iam": True}
    event = http_event(
        method, path, params, raw_body=raw_body, headers={"content-type": content_type}, **auth
    )
    return parse(invoke(function, event))


def assert_error(answer: tuple[int, Any], status: int, code: str) -> None:
    assert answer[0] == status, answer
    assert answer[1]["error"] == code and answer[1]["message"], answer
    assert set(answer[1]) <= {"error", "message", "details"}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=IDS)
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ],
)
def test_a_body_that_is_not_json_is_415(table: None, route: tuple, content_type: str) -> None:
    assert_error(call(route, json.dumps(route[5]), content_type), 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/JSON", "Application/Json; charset=UTF-8", "application/json;charset=utf-8"]
)
def test_media_types_are_case_insensitive(table: None, content_type: str) -> None:
    limits = BODY_ROUTES[4]
    assert call(limits, json.dumps(limits[5]), content_type) == (200, limits[5])


@pytest.mark.parametrize("route", BODY_ROUTES, ids=IDS)
def test_json_nested_10000_deep_is_400(table: None, route: tuple) -> None:
    assert_error(call(route, "[" * 10_000 + "]" * 10_000), 400, "malformed_json")
    assert_error(call(route, '{"a":' * 100 + "1" + "}" * 100), 400, "malformed_json")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=IDS)
def test_an_integer_of_4300_digits_is_422(table: None, route: tuple) -> None:
    body = json.dumps({**route[5], "amount": 0}).replace('"amount": 0', '"amount": ' + "9" * 4300)
    assert_error(call(route, body), 422, "invalid_request")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=IDS)
def test_a_body_over_64_kb_is_413(table: None, route: tuple) -> None:
    assert_error(call(route, json.dumps({**route[5], "pad": "x" * 70_000})), 413, "payload_too_large")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=IDS)
def test_a_string_that_is_not_unicode_is_400(table: None, route: tuple) -> None:
    assert_error(call(route, json.dumps({**route[5], "k": "\ud800"})), 400, "malformed_json")


OUTSIDERS = [
    pytest.param(owner(ACCOUNT, "member"), id="member"),
    pytest.param(owner("other"), id="other-owner"),
    pytest.param({}, id="no-claims"),
]


@pytest.mark.parametrize("route", ACCOUNT_BODY_ROUTES, ids=[f"{r[1]} {r[2]}" for r in ACCOUNT_BODY_ROUTES])
@pytest.mark.parametrize("claims", OUTSIDERS)
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ('{"nonsense": true}', "application/json"),
        ("{", "application/json"),
        ("x", "multipart/form-data"),
        ("[" * 5000, "application/json"),
    ],
    ids=["invalid", "malformed", "multipart", "deep"],
)
def test_outsiders_get_403_before_any_body_check(
    table: None, route: tuple, claims: dict, raw: str, content_type: str
) -> None:
    assert_error(call(route, raw, content_type, claims=claims or {"sub": "x"}), 403, "forbidden")


@pytest.mark.parametrize("claims", OUTSIDERS)
def test_outsiders_get_403_before_the_query_is_checked(table: None, claims: dict) -> None:
    for query in ({"limit": "abc"}, {"limit": "0"}, {"type": "nope"}, {"cursor": "%%%"}):
        event = http_event(
            "GET", "/accounts/{account_id}/transactions", P, query=query, claims=claims or {"sub": "x"}
        )
        assert_error(parse(invoke("transactions", event)), 403, "forbidden")
    event = http_event(
        "GET", "/accounts/{account_id}/usage", P, query={"from": "x"}, claims=claims or {"sub": "x"}
    )
    assert_error(parse(invoke("usage_report", event)), 403, "forbidden")


@pytest.mark.parametrize(
    "route", [r for r in BODY_ROUTES if not r[4]], ids=[f"{r[1]} {r[2]}" for r in BODY_ROUTES if not r[4]]
)
def test_service_routes_refuse_a_jwt_before_the_body(table: None, route: tuple) -> None:
    function, method, path, params, _, _ = route
    event = http_event(method, path, params, raw_body="{", claims=owner(ACCOUNT))
    assert_error(parse(invoke(function, event)), 403, "forbidden")

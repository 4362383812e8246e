"""Bad input on every route: a stable 400/422 error body, and not a single item written."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from moto import mock_aws

from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.tables import scan as scan_table
from ledger.domain.changes import digest
from ledger.store import table as ledger_table
from tests.conftest import TABLE, create_table, isolated_environment

ACCOUNT = "acme"
HOLD_KEY = "seed-hold"
HOLD_ID = "hold_" + digest(ACCOUNT, "hold", HOLD_KEY)
MAX = 10**12
RAW = "__raw__"  # stands for a JSON number text that json.dumps cannot produce (1e3)


def scan() -> list[dict[str, Any]]:
    return scan_table(TABLE)


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    path: str
    valid: dict[str, Any]
    jwt: bool = False
    params: dict[str, str] = field(default_factory=lambda: {"account_id": ACCOUNT})

    def event(self, body: Any = None, raw_body: str | None = None, base64_body: bool = False) -> dict:
        auth: dict[str, Any] = {"claims": owner(self.params["account_id"])} if self.jwt else {"iam": True}
        return http_event(
            self.method, self.path, self.params, body, raw_body=raw_body, base64_body=base64_body, **auth
        )

    def call(
        self, body: Any = None, raw_body: str | None = None, base64_body: bool = False
    ) -> tuple[int, Any]:
        return parse(invoke(self.function, self.event(body, raw_body, base64_body)))


DEBIT = Route(
    "debit",
    "POST",
    "/accounts/{account_id}/usage",
    {"amount": 10, "operation": "render", "idempotency_key": "d-1"},
)
HOLD = Route("holds", "POST", "/accounts/{account_id}/holds", {"amount": 10, "idempotency_key": "h-1"})
CAPTURE = Route(
    "holds",
    "POST",
    "/accounts/{account_id}/holds/{hold_id}/capture",
    {"amount": 10},
    params={"account_id": ACCOUNT, "hold_id": HOLD_ID},
)
GRANT = Route(
    "grants",
    "POST",
    "/accounts/{account_id}/grants",
    {"amount": 10, "source": "promotional", "idempotency_key": "g-1"},
)
LIMITS = Route(
    "limits", "PUT", "/accounts/{account_id}/limits", {"low_balance_threshold": 10, "hard_limit": 0}, jwt=True
)
WRITE_ROUTES = {"debit": DEBIT, "hold": HOLD, "capture": CAPTURE, "grant": GRANT, "limits": LIMITS}


@pytest.fixture(scope="module")
def _shared_table() -> Iterator[None]:
    """One table for the module (bad input writes nothing, so the cases can share it)."""
    with isolated_environment(), mock_aws():
        create_table()
        # an account with credits and an open hold: every valid write here would succeed and write
        assert GRANT.call({"amount": 1000, "source": "purchase", "idempotency_key": "seed"})[0] == 201
        status, hold = HOLD.call({"amount": 300, "idempotency_key": HOLD_KEY})
        assert (status, hold["hold_id"]) == (201, HOLD_ID)
        yield


@pytest.fixture
def seeded(_shared_table: None) -> None:
    ledger_table.reset_client()


def assert_refused_without_writing(
    route: Route, expected: tuple[int, str], body: Any = None, raw_body: str | None = None, **kw: Any
) -> dict[str, Any]:
    before = scan()
    status, payload = route.call(body, raw_body, **kw)
    assert (status, payload["error"]) == expected, payload
    assert isinstance(payload["message"], str) and payload["message"]
    assert scan() == before
    return payload


def assert_names_field(payload: dict[str, Any], name: str) -> None:
    fields = [d["field"] for d in payload["details"]]
    assert any(f == name or f.startswith(name + ".") for f in fields), fields


def with_field(valid: dict[str, Any], name: str, value: Any) -> tuple[Any, str | None]:
    """(body, raw_body): the valid body with one field replaced (RAW values go in as raw JSON text)."""
    body = {**valid, name: value}
    if isinstance(value, str) and value.startswith(RAW):
        return None, json.dumps(body).replace(json.dumps(value), value[len(RAW) :])
    return body, None


# The bad values of a strict positive credit amount (1 to 10^12).
BAD_AMOUNTS = [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(10.0, id="float"),
    pytest.param(RAW + "1e3", id="exponent"),
    pytest.param(10.5, id="fraction"),
    pytest.param("10", id="string"),
    pytest.param(True, id="boolean"),
    pytest.param(MAX + 1, id="over-max"),
    pytest.param(None, id="null"),
    pytest.param([10], id="list"),
    pytest.param({"value": 10}, id="object"),
]
BAD_THRESHOLDS = [
    pytest.param(-1, id="negative"),
    pytest.param(10.0, id="float"),
    pytest.param(RAW + "1e3", id="exponent"),
    pytest.param("10", id="string"),
    pytest.param(False, id="boolean"),
    pytest.param(MAX + 1, id="over-max"),
    pytest.param(None, id="null"),
]
BAD_HARD_LIMITS = [
    pytest.param(0.0, id="float"),
    pytest.param(RAW + "1e3", id="exponent"),
    pytest.param("0", id="string"),
    pytest.param(False, id="boolean"),
    pytest.param(MAX + 1, id="over-max"),
    pytest.param(-MAX - 1, id="under-min"),
    pytest.param(None, id="null"),
]
INT_FIELDS = [
    pytest.param(route, name, bad.values[0], id=f"{route}-{name}-{bad.id}")
    for route, name, bads in [
        ("debit", "amount", BAD_AMOUNTS),
        ("hold", "amount", BAD_AMOUNTS),
        ("capture", "amount", [b for b in BAD_AMOUNTS if b.id != "null"]),  # null: capture it all
        ("grant", "amount", BAD_AMOUNTS),
        ("limits", "low_balance_threshold", BAD_THRESHOLDS),
        ("limits", "hard_limit", BAD_HARD_LIMITS),
    ]
    for bad in bads
]


@pytest.mark.parametrize(("route", "name", "value"), INT_FIELDS)
def test_integer_fields_are_strict(seeded: None, route: str, name: str, value: Any) -> None:
    r = WRITE_ROUTES[route]
    body, raw = with_field(r.valid, name, value)
    payload = assert_refused_without_writing(r, (422, "invalid_request"), body, raw)
    assert_names_field(payload, name)


OTHER_FIELDS = [
    ("debit", "operation", "Render!"),
    ("debit", "operation", ""),
    ("debit", "operation", 5),
    ("debit", "idempotency_key", ""),
    ("debit", "idempotency_key", "k" * 129),
    ("debit", "idempotency_key", "has space"),
    ("debit", "idempotency_key", 42),
    ("debit", "metadata", {f"k{i}": "v" for i in range(11)}),
    ("debit", "metadata", {"k": 1}),
    ("debit", "metadata", ["k"]),
    ("hold", "expires_in_seconds", 0),
    ("hold", "expires_in_seconds", 86401),
    ("hold", "expires_in_seconds", 60.0),
    ("hold", "expires_in_seconds", "60"),
    ("hold", "expires_in_seconds", True),
    ("hold", "operation", "BAD OP"),
    ("hold", "idempotency_key", "é"),
    ("grant", "source", "gift"),
    ("grant", "source", None),
    ("grant", "expires_at", "2030-01-01T00:00:00"),
    ("grant", "expires_at", "soon"),
    ("grant", "priority", 1001),
    ("grant", "priority", -1),
    ("grant", "priority", 5.0),
    ("grant", "priority", True),
    ("grant", "description", "d" * 201),
    ("grant", "idempotency_key", "k/" * 65),
]


@pytest.mark.parametrize(("route", "name", "value"), OTHER_FIELDS)
def test_other_fields_are_validated(seeded: None, route: str, name: str, value: Any) -> None:
    r = WRITE_ROUTES[route]
    payload = assert_refused_without_writing(r, (422, "invalid_request"), {**r.valid, name: value})
    assert_names_field(payload, name)


REQUIRED = [(route, name) for route, r in WRITE_ROUTES.items() if route != "capture" for name in r.valid]


@pytest.mark.parametrize(("route", "missing"), REQUIRED, ids=[f"{r}-{n}" for r, n in REQUIRED])
def test_missing_required_field(seeded: None, route: str, missing: str) -> None:
    r = WRITE_ROUTES[route]
    body = {k: v for k, v in r.valid.items() if k != missing}
    payload = assert_refused_without_writing(r, (422, "invalid_request"), body)
    assert_names_field(payload, missing)


@pytest.mark.parametrize("route", ["debit", "hold", "grant", "limits"])
def test_empty_object(seeded: None, route: str) -> None:
    payload = assert_refused_without_writing(WRITE_ROUTES[route], (422, "invalid_request"), {})
    assert len(payload["details"]) == len(WRITE_ROUTES[route].valid)


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
def test_unknown_extra_field(seeded: None, route: str) -> None:
    r = WRITE_ROUTES[route]
    payload = assert_refused_without_writing(r, (422, "invalid_request"), {**r.valid, "surprise": 1})
    assert_names_field(payload, "surprise")


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
@pytest.mark.parametrize("body", [[], "amount", 10, True], ids=["list", "string", "number", "boolean"])
def test_body_that_is_not_an_object(seeded: None, route: str, body: Any) -> None:
    assert_refused_without_writing(WRITE_ROUTES[route], (422, "invalid_request"), body)


@pytest.mark.parametrize("route", [r for r in WRITE_ROUTES if r != "capture"])
@pytest.mark.parametrize("raw", [None, "", "null"], ids=["absent", "empty", "null"])
def test_missing_body(seeded: None, route: str, raw: str | None) -> None:
    assert_refused_without_writing(WRITE_ROUTES[route], (422, "invalid_request"), raw_body=raw)


MALFORMED = ['{"amount": 10,', "{amount: 10}", "not json", '{"amount": 10}}', "{'amount': 10}", "{"]


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_json(seeded: None, route: str, raw: str) -> None:
    payload = assert_refused_without_writing(WRITE_ROUTES[route], (400, "malformed_json"), raw_body=raw)
    assert set(payload) == {"error", "message"}


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
def test_malformed_json_base64_encoded(seeded: None, route: str) -> None:
    assert_refused_without_writing(
        WRITE_ROUTES[route], (400, "malformed_json"), raw_body='{"amount": ', base64_body=True
    )


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
def test_schema_violation_base64_encoded(seeded: None, route: str) -> None:
    r = WRITE_ROUTES[route]
    assert_refused_without_writing(r, (422, "invalid_request"), {**r.valid, "surprise": 1}, base64_body=True)


@pytest.mark.parametrize(
    ("route", "status"), [("debit", 201), ("hold", 201), ("capture", 200), ("grant", 201), ("limits", 200)]
)
def test_base64_encoded_valid_body_is_accepted(seeded: None, route: str, status: int) -> None:
    account = f"b64-{route}"  # its own account: the shared one stays as seeded
    seed = {"amount": 1000, "source": "purchase", "idempotency_key": "seed"}
    assert replace(GRANT, params={"account_id": account}).call(seed)[0] == 201
    hold = replace(HOLD, params={"account_id": account}).call({"amount": 300, "idempotency_key": HOLD_KEY})[1]
    r = replace(WRITE_ROUTES[route], params={"account_id": account, "hold_id": hold["hold_id"]})
    before = scan()
    event = r.event(r.valid, base64_body=True)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == json.dumps(r.valid).encode()
    code, payload = parse(invoke(r.function, event))
    assert code == status, payload
    assert scan() != before
    if route == "debit":
        assert (payload["entry"]["amount"], payload["balance"]) == (-10, 990)
    if route == "limits":
        assert payload == r.valid


# Reads: query parameters.


def read(function: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
    event = http_event("GET", path, {"account_id": ACCOUNT}, query=query, claims=owner(ACCOUNT))
    return parse(invoke(function, event))


def assert_read_refused(function: str, path: str, query: dict[str, str], field_name: str | None) -> None:
    before = scan()
    status, payload = read(function, path, query)
    assert (status, payload["error"]) == (422, "invalid_request"), payload
    assert payload["message"]
    if field_name:
        assert_names_field(payload, field_name)
    assert scan() == before


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


TRANSACTIONS = "/accounts/{account_id}/transactions"


@pytest.mark.parametrize(
    ("query", "field_name"),
    [
        pytest.param({"limit": "0"}, "limit", id="limit-0"),
        pytest.param({"limit": "201"}, "limit", id="limit-201"),
        pytest.param({"limit": "-1"}, "limit", id="limit-negative"),
        pytest.param({"limit": "abc"}, "limit", id="limit-abc"),
        pytest.param({"limit": "1.5"}, "limit", id="limit-fraction"),
        pytest.param({"limit": ""}, "limit", id="limit-empty"),
        pytest.param({"type": "bogus"}, "type", id="type-bogus"),
        pytest.param({"type": "Consumption"}, "type", id="type-case"),
        pytest.param({"cursor": "c" * 513}, "cursor", id="cursor-too-long"),
        pytest.param({"cursor": "!!!"}, None, id="cursor-garbage"),
        pytest.param({"cursor": "a"}, None, id="cursor-bad-padding"),
        pytest.param({"cursor": base64.urlsafe_b64encode(b"not json").decode()}, None, id="cursor-not-json"),
        pytest.param({"cursor": cursor_of({"sk": "H#hold_x"})}, None, id="cursor-foreign-key"),
        pytest.param({"cursor": cursor_of({"sk": "A"})}, None, id="cursor-account-item"),
        pytest.param({"cursor": cursor_of({"sk": 5})}, None, id="cursor-number"),
        pytest.param({"cursor": cursor_of({})}, None, id="cursor-empty-object"),
        pytest.param({"cursor": cursor_of(["E#1"])}, None, id="cursor-list"),
        pytest.param({"cursor": cursor_of(None)}, None, id="cursor-null"),
        pytest.param({"cursor": cursor_of("E#1")}, None, id="cursor-string"),
        pytest.param({"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()}, None, id="cursor-not-utf8"),
    ],
)
def test_transactions_bad_query(seeded: None, query: dict[str, str], field_name: str | None) -> None:
    assert_read_refused("transactions", TRANSACTIONS, query, field_name)


def test_transactions_limits_at_the_bounds_are_accepted(seeded: None) -> None:
    for limit in ("1", "200"):
        status, page = read("transactions", TRANSACTIONS, {"limit": limit})
        assert status == 200, page


USAGE = "/accounts/{account_id}/usage"


@pytest.mark.parametrize(
    ("query", "field_name"),
    [
        pytest.param({"to": "2026-01-31"}, "from", id="missing-from"),
        pytest.param({"from": "2026-01-01"}, "to", id="missing-to"),
        pytest.param({}, "from", id="missing-both"),
        pytest.param({"from": "2026-13-01", "to": "2026-12-31"}, "from", id="month-13"),
        pytest.param({"from": "2026-02-30", "to": "2026-03-31"}, "from", id="february-30"),
        pytest.param({"from": "yesterday", "to": "2026-03-31"}, "from", id="word"),
        pytest.param({"from": "2026-01-01", "to": "01/31/2026"}, "to", id="us-format"),
        pytest.param({"from": "2026-01-01", "to": ""}, "to", id="empty"),
        pytest.param({"from": "2026-01-31", "to": "2026-01-30"}, None, id="to-before-from"),
        pytest.param({"from": "2025-01-01", "to": "2026-01-02"}, None, id="367-days"),
        pytest.param({"from": "2020-01-01", "to": "2026-01-01"}, None, id="six-years"),
    ],
)
def test_usage_bad_query(seeded: None, query: dict[str, str], field_name: str | None) -> None:
    assert_read_refused("usage_report", USAGE, query, field_name)


@pytest.mark.parametrize(
    "query",
    [{"from": "2025-01-01", "to": "2026-01-01"}, {"from": "2026-01-01", "to": "2026-01-01"}],
    ids=["366-days", "one-day"],
)
def test_usage_spans_at_the_bounds_are_accepted(seeded: None, query: dict[str, str]) -> None:
    status, report = read("usage_report", USAGE, query)
    assert status == 200, report
    assert (report["from"], report["to"], report["total"]) == (query["from"], query["to"], 0)


# Bad input that could escape the error mapping as an unhandled exception (a 500 from API Gateway).


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
def test_body_that_is_not_utf8_is_malformed_json(seeded: None, route: str) -> None:
    r = WRITE_ROUTES[route]
    event = r.event(r.valid, base64_body=True)
    event["body"] = base64.b64encode(json.dumps(r.valid).encode().replace(b"{", b"{\xff", 1)).decode()
    before = scan()
    status, payload = parse(invoke(r.function, event))
    assert (status, payload["error"]) == (400, "malformed_json")
    assert scan() == before


@pytest.mark.parametrize("route", ["debit", "hold", "grant"])
def test_account_id_longer_than_a_key_is_refused(seeded: None, route: str) -> None:
    r = replace(WRITE_ROUTES[route], params={"account_id": "a" * 2100})
    before = scan()
    status, payload = r.call(r.valid)
    assert status in (400, 404, 422) and payload["error"], payload
    assert scan() == before


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("debit", (402, "insufficient_credits")),
        ("hold", (402, "insufficient_credits")),
        ("capture", (422, "capture_exceeds_hold")),
    ],
)
def test_largest_amount_passes_validation(seeded: None, route: str, expected: tuple[int, str]) -> None:
    r = WRITE_ROUTES[route]
    assert_refused_without_writing(r, expected, {**r.valid, "amount": MAX})


def test_largest_limits_pass_validation(seeded: None) -> None:
    r = replace(LIMITS, params={"account_id": "limits-at-max"})
    body = {"low_balance_threshold": MAX, "hard_limit": MAX}
    assert r.call(body) == (200, body)


# Moments and numbers at the edges of what Python's dates and integers hold: a clear 422, never a 500.

BALANCE = "/accounts/{account_id}/balance"
EXPORT = "/accounts/{account_id}/transactions/export"
LONG_DIGITS = "9" * 5000  # more digits than Python reads into an int


@pytest.mark.parametrize(
    "expires_at",
    [
        pytest.param("9999-12-31T23:59:59-01:00", id="past-9999-in-utc"),
        pytest.param("9999-12-31T00:00:00Z", id="last-day"),
        pytest.param(LONG_DIGITS, id="long-digits"),
    ],
)
def test_grant_expiry_beyond_the_dates_held_is_refused(seeded: None, expires_at: str) -> None:
    body = {**GRANT.valid, "idempotency_key": "g-far", "expires_at": expires_at}
    assert_refused_without_writing(GRANT, (422, "invalid_request"), body)


@pytest.mark.parametrize(
    ("function", "path", "query"),
    [
        pytest.param("balance", BALANCE, {"at": "0001-01-01T00:00:00+01:00"}, id="balance-at-year-0-in-utc"),
        pytest.param("balance", BALANCE, {"at": LONG_DIGITS}, id="balance-at-long-digits"),
        pytest.param("export", EXPORT, {"from": "0001-01-01T00:00:00Z"}, id="export-from-first-day"),
        pytest.param("export", EXPORT, {"to": "9999-12-31T23:59:59Z"}, id="export-to-last-day"),
        pytest.param("export", EXPORT, {"from": LONG_DIGITS}, id="export-from-long-digits"),
        pytest.param(
            "export",
            EXPORT,
            {"cursor": cursor_of({"after": 0, "from": "2020-01-01T00:00:00", "to": None})},
            id="export-cursor-without-time-zone",
        ),
        pytest.param(
            "export",
            EXPORT,
            {"cursor": cursor_of({"after": 0, "from": None, "to": "9999-12-31T23:59:59-23:59"})},
            id="export-cursor-past-9999",
        ),
        pytest.param("transactions", TRANSACTIONS, {"limit": LONG_DIGITS}, id="limit-long-digits"),
    ],
)
def test_reads_refuse_moments_and_numbers_beyond_what_is_held(
    seeded: None, function: str, path: str, query: dict[str, str]
) -> None:
    assert_read_refused(function, path, query, None)


@pytest.mark.parametrize("route", list(WRITE_ROUTES))
@pytest.mark.parametrize("body", [{"amount": 10}, ["amount"], 10], ids=["object", "list", "number"])
def test_an_event_body_that_is_not_text_is_malformed_json(seeded: None, route: str, body: Any) -> None:
    """API Gateway sends text; a direct invoke may send anything."""
    r = WRITE_ROUTES[route]
    event = r.event(r.valid)
    event["body"] = body
    before = scan()
    status, payload = parse(invoke(r.function, event))
    assert (status, payload["error"]) == (400, "malformed_json"), payload
    assert scan() == before

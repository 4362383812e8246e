"""POST /accounts/{id}/adjustments: corrections the ledger's way, as entries with their reason; a negative
one respects the floor unless allowed below it; bad input writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from devkit.tables import scan

ROUTE = "/accounts/{account_id}/adjustments"


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


def adjust(account: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    kwargs.setdefault("iam", True)
    return parse(invoke("adjustments", http_event("POST", ROUTE, {"account_id": account}, body, **kwargs)))


def test_a_positive_adjustment_adds_credits_with_its_reason(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    status, body = adjust("acme", {"amount": 25, "reason": "goodwill for ticket 88", "idempotency_key": "a1"})
    assert status == 201, body
    assert (body["entry"]["type"], body["entry"]["amount"], body["balance"]) == ("adjustment", 25, 125)
    assert body["entry"]["description"] == "goodwill for ticket 88"
    journal.pump()
    [entry, _] = ledger.history("acme").items
    assert (entry.type, entry.amount, entry.description, entry.balance_after) == (
        "adjustment",
        25,
        "goodwill for ticket 88",
        125,
    )
    assert ledger.balance_card("acme").account.lifetime_added == 125
    assert [g.source for g in ledger.live_grants("acme")] == ["purchase", "adjustment"]


def test_a_negative_adjustment_takes_credits_back_within_the_floor(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    status, body = adjust("acme", {"amount": -40, "reason": "double-counted job 7", "idempotency_key": "a1"})
    assert status == 201, body
    assert (body["entry"]["amount"], body["balance"], body["available"]) == (-40, 60, 60)
    card = ledger.balance_card("acme").account
    assert (card.balance, card.lifetime_clawed_back, card.lifetime_spent) == (60, 40, 0)
    assert sum(g.remaining for g in ledger.live_grants("acme")) == 60


def test_below_the_floor_is_refused_unless_allowed_and_then_is_a_debt(journal: StreamPump) -> None:
    ledger.grant("acme", 30, "purchase", "g")
    before = scan()
    status, body = adjust("acme", {"amount": -50, "reason": "chargeback by hand", "idempotency_key": "a1"})
    assert (status, body["error"], body["available"], body["requested"]) == (
        402,
        "insufficient_credits",
        30,
        50,
    )
    assert scan() == before
    status, body = adjust(
        "acme",
        {"amount": -50, "reason": "chargeback by hand", "idempotency_key": "a1", "allow_below_floor": True},
    )
    assert status == 201 and body["balance"] == -20
    with pytest.raises(ledger.InsufficientCredits):
        ledger.debit("acme", 1, "render", "d1")
    ledger.grant("acme", 50, "purchase", "g2")  # pays the debt first
    card = ledger.balance_card("acme").account
    assert card.balance == 30 == sum(g.remaining for g in ledger.live_grants("acme"))


def test_a_retry_answers_the_first_entry_and_another_body_is_a_conflict(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    body = {"amount": -10, "reason": "fix", "idempotency_key": "a1"}
    _, first = adjust("acme", body)
    journal.pump()
    status, again = adjust("acme", body)
    assert status == 201 and again["entry"]["id"] == first["entry"]["id"] and again["balance"] == 90
    for other in ({**body, "reason": "another"}, {**body, "amount": -11}, {**body, "amount": 10}):
        status, refused = adjust("acme", other)
        assert (status, refused["error"]) == (409, "idempotency_conflict"), other
    positive = {"amount": 5, "reason": "fix", "idempotency_key": "p1"}
    assert adjust("acme", positive)[0] == 201
    assert adjust("acme", positive)[1]["balance"] == 95
    assert adjust("acme", {**positive, "reason": "other"})[0] == 409


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0, "reason": "x", "idempotency_key": "k"},
        {"amount": 2.0, "reason": "x", "idempotency_key": "k"},
        {"amount": "-3", "reason": "x", "idempotency_key": "k"},
        {"amount": True, "reason": "x", "idempotency_key": "k"},
        {"amount": -(10**12) - 1, "reason": "x", "idempotency_key": "k"},
        {"amount": 5, "idempotency_key": "k"},
        {"amount": 5, "reason": "", "idempotency_key": "k"},
        {"amount": 5, "reason": "   ", "idempotency_key": "k"},
        {"amount": 5, "reason": "x" * 201, "idempotency_key": "k"},
        {"amount": 5, "reason": "x"},
        {"amount": 5, "reason": "x", "idempotency_key": "k", "allow_below_floor": "yes"},
        {"amount": 5, "reason": "x", "idempotency_key": "k", "extra": 1},
    ],
    ids=[
        "zero",
        "float",
        "string",
        "bool",
        "too-large",
        "no-reason",
        "empty-reason",
        "blank-reason",
        "long-reason",
        "no-key",
        "flag-not-bool",
        "unknown-field",
    ],
)
def test_bad_input_is_422_and_writes_nothing(journal: StreamPump, body: dict) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    before = scan()
    status, answer = adjust("acme", body)
    assert (status, answer["error"]) == (422, "invalid_request"), answer
    assert scan() == before


def test_only_service_callers_and_before_the_body_is_read() -> None:
    for caller in ({"claims": owner("acme"), "iam": False}, {"claims": owner("acme", "admin"), "iam": False}):
        status, body = adjust("acme", {"amount": 0}, **caller)
        assert (status, body["error"]) == (403, "forbidden")

"""Retries: the same request under the same key returns the first result and writes nothing; another
request under a used key is a conflict. Captures and releases are idempotent by hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from devkit.tables import scan


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


ROUTES = {
    "debit": ("debit", "/accounts/{account_id}/usage"),
    "hold": ("holds", "/accounts/{account_id}/holds"),
    "grant": ("grants", "/accounts/{account_id}/grants"),
}
BODIES = {
    "debit": {"amount": 40, "operation": "render", "idempotency_key": "k-1", "metadata": {"job": "42"}},
    "hold": {"amount": 40, "idempotency_key": "k-1", "expires_in_seconds": 600, "operation": "render"},
    "grant": {"amount": 40, "source": "promotional", "idempotency_key": "k-1", "description": "welcome"},
}
ENTRY_TYPE = {"debit": "consumption", "hold": "hold", "grant": "grant"}


@dataclass(frozen=True)
class Account:
    """One account, called through the handlers: the service routes with IAM, the reads as its owner."""

    id: str

    def post(self, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
        function, route = ROUTES[operation]
        return parse(invoke(function, http_event("POST", route, {"account_id": self.id}, body, iam=True)))

    def grant(self, amount: int, key: str) -> dict[str, Any]:
        status, body = self.post("grant", {"amount": amount, "source": "purchase", "idempotency_key": key})
        assert status == 201, body
        return body

    def debit(self, amount: int, key: str) -> tuple[int, Any]:
        return self.post("debit", {"amount": amount, "operation": "render", "idempotency_key": key})

    def hold(self, amount: int, key: str) -> str:
        status, body = self.post("hold", {"amount": amount, "idempotency_key": key})
        assert status == 201, body
        return body["hold_id"]

    def resolve(self, hold_id: str, action: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        route = "/accounts/{account_id}/holds/{hold_id}/" + action
        event = http_event("POST", route, {"account_id": self.id, "hold_id": hold_id}, body, iam=True)
        return parse(invoke("holds", event))

    def history(self, type: str | None = None) -> list[dict[str, Any]]:
        query = {"limit": "200", **({"type": type} if type else {})}
        route = "/accounts/{account_id}/transactions"
        event = http_event("GET", route, {"account_id": self.id}, query=query, claims=owner(self.id))
        status, page = parse(invoke("transactions", event))
        assert status == 200 and page["next_cursor"] is None, page
        return page["items"]

    def card(self) -> dict[str, Any]:
        route = "/accounts/{account_id}/balance"
        event = http_event("GET", route, {"account_id": self.id}, claims=owner(self.id))
        return parse(invoke("balance", event))[1]


@pytest.fixture
def acme(journal: StreamPump) -> Account:
    """An account with 1000 credits."""
    account = Account("acme")
    account.grant(1000, "seed")
    return account


@pytest.mark.parametrize("operation", list(ROUTES))
def test_replay_returns_the_first_result_and_writes_nothing(
    journal: StreamPump, acme: Account, operation: str
) -> None:
    first = acme.post(operation, BODIES[operation])
    assert first[0] == 201, first
    after_first = scan()

    for _ in range(2):
        assert acme.post(operation, BODIES[operation]) == first
        assert scan() == after_first

    journal.pump()
    entries = acme.history(ENTRY_TYPE[operation])
    assert len(entries) == 1
    if operation != "hold":
        assert entries[0] == first[1]["entry"]
    state = acme.card()
    assert (state["balance"], state["held"]) == {
        "debit": (960, 0),
        "hold": (1000, 40),
        "grant": (1040, 0),
    }[operation]


@pytest.mark.parametrize("operation", list(ROUTES))
def test_replay_after_other_writes_returns_the_original_entry(
    journal: StreamPump, acme: Account, operation: str
) -> None:
    status, first = acme.post(operation, BODIES[operation])
    assert status == 201
    acme.grant(5, "later-1")
    assert acme.debit(7, "later-2")[0] == 201
    journal.pump()
    before = scan()

    status, again = acme.post(operation, BODIES[operation])
    assert status == 201
    assert scan() == before
    if operation == "hold":
        assert again == first
    else:
        assert again["entry"] == first["entry"]
        assert again["entry"]["balance_after"] == first["entry"]["balance_after"]
        state = acme.card()
        assert (again["balance"], again["available"]) == (state["balance"], state["available"])
    if operation == "grant":
        assert again["grant"] == first["grant"]


def test_debit_replay_succeeds_even_when_the_credits_are_gone(acme: Account) -> None:
    first = acme.debit(1000, "all-of-it")
    assert first[0] == 201
    assert acme.debit(1, "one-more")[0] == 402
    before = scan()
    assert acme.debit(1000, "all-of-it") == first
    assert scan() == before


CONFLICTS = [
    ("debit", "amount", 41),
    ("debit", "operation", "export"),
    ("debit", "metadata", {"job": "43"}),
    ("debit", "metadata", None),
    ("hold", "amount", 41),
    ("hold", "expires_in_seconds", 601),
    ("hold", "expires_in_seconds", None),
    ("hold", "operation", "export"),
    ("grant", "amount", 41),
    ("grant", "source", "adjustment"),
    ("grant", "description", "another"),
    ("grant", "priority", 7),
    ("grant", "expires_at", "2099-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("operation", "name", "value"), CONFLICTS)
def test_same_key_with_another_body_is_a_conflict(
    acme: Account, operation: str, name: str, value: Any
) -> None:
    assert acme.post(operation, BODIES[operation])[0] == 201
    before = scan()
    body = {k: v for k, v in {**BODIES[operation], name: value}.items() if v is not None}
    status, payload = acme.post(operation, body)
    assert status == 409, payload
    assert payload["error"] == "idempotency_conflict"
    assert scan() == before


def test_a_debit_key_reused_for_a_grant_is_a_conflict(acme: Account) -> None:
    assert acme.debit(10, "shared-key")[0] == 201
    before = scan()
    status, payload = acme.post(
        "grant", {"amount": 10, "source": "purchase", "idempotency_key": "shared-key"}
    )
    assert (status, payload["error"]) == (409, "idempotency_conflict")
    assert scan() == before


@pytest.mark.parametrize("operation", list(ROUTES))
def test_keys_are_per_account(acme: Account, operation: str) -> None:
    other = Account(acme.id + "-other")
    other.grant(1000, "seed")
    status, first = acme.post(operation, BODIES[operation])
    assert status == 201
    status, theirs = other.post(operation, BODIES[operation])
    assert status == 201
    if operation == "hold":
        assert theirs["hold_id"] != first["hold_id"]
    else:
        assert theirs["entry"]["id"] != first["entry"]["id"]


@pytest.mark.parametrize("amount", [30, None], ids=["partial", "all"])
def test_capture_retried_with_the_same_amount_replays(
    journal: StreamPump, acme: Account, amount: int | None
) -> None:
    hold_id = acme.hold(100, "h")
    body = {"amount": amount} if amount else {}
    captured = amount or 100
    first = acme.resolve(hold_id, "capture", body)
    assert first[0] == 200, first
    assert (first[1]["captured"], first[1]["released"]) == (captured, 100 - captured)
    before = scan()
    assert acme.resolve(hold_id, "capture", body) == first
    assert scan() == before

    journal.pump()
    captures = acme.history("capture")
    assert [c["id"] for c in captures] == [first[1]["entry"]["id"]]
    assert captures[0]["balance_after"] == first[1]["entry"]["balance_after"] == 1000 - captured
    assert (acme.card()["balance"], acme.card()["held"]) == (1000 - captured, 0)
    # still the same once the journal recorded it and other writes moved the balance on
    acme.grant(5, "later")
    journal.pump()
    status, again = acme.resolve(hold_id, "capture", body)
    assert status == 200
    assert again["entry"] == first[1]["entry"]


def test_capture_retried_with_another_amount_is_refused(acme: Account) -> None:
    hold_id = acme.hold(100, "h")
    assert acme.resolve(hold_id, "capture", {"amount": 30})[0] == 200
    before = scan()
    for body in ({"amount": 31}, {"amount": 100}, {}):
        status, payload = acme.resolve(hold_id, "capture", body)
        assert (status, payload["error"]) == (409, "hold_not_open"), body
        assert scan() == before


def test_release_twice_replays(journal: StreamPump, acme: Account) -> None:
    hold_id = acme.hold(100, "h")
    first = acme.resolve(hold_id, "release")
    assert first[0] == 200
    assert (first[1]["status"], first[1]["released"], first[1]["available"]) == ("released", 100, 1000)
    before = scan()
    assert acme.resolve(hold_id, "release") == first
    assert scan() == before
    journal.pump()
    assert len(acme.history("release")) == 1
    assert (acme.card()["balance"], acme.card()["held"]) == (1000, 0)


@pytest.mark.parametrize(
    ("done", "then", "body"),
    [("release", "capture", {"amount": 10}), ("release", "capture", {}), ("capture", "release", None)],
    ids=["capture-after-release", "capture-all-after-release", "release-after-capture"],
)
def test_resolving_a_resolved_hold_the_other_way_is_refused(
    acme: Account, done: str, then: str, body: dict | None
) -> None:
    hold_id = acme.hold(100, "h")
    assert acme.resolve(hold_id, done, {} if done == "capture" else None)[0] == 200
    before = scan()
    status, payload = acme.resolve(hold_id, then, body)
    assert (status, payload["error"]) == (409, "hold_not_open")
    assert scan() == before


def test_placing_a_hold_again_after_it_was_captured_does_not_hold_again(
    journal: StreamPump, acme: Account
) -> None:
    hold_id = acme.hold(100, "h")
    assert acme.resolve(hold_id, "capture", {"amount": 60})[0] == 200
    before = scan()
    status, again = acme.post("hold", {"amount": 100, "idempotency_key": "h"})
    assert status == 201
    assert (again["hold_id"], again["status"], again["captured"]) == (hold_id, "captured", 60)
    assert scan() == before
    journal.pump()
    assert (acme.card()["balance"], acme.card()["held"], len(acme.history("hold"))) == (940, 0, 1)


def test_grant_retried_after_its_expiry_returns_the_first_result(journal: StreamPump) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    expires = start + timedelta(days=1)
    first = ledger.grant("acme", 100, "promotional", "promo-1", expires_at=expires, now=start)
    retry = ledger.grant(
        "acme", 100, "promotional", "promo-1", expires_at=expires, now=expires + timedelta(hours=1)
    )
    assert retry.result.replayed
    assert (retry.grant.id, retry.result.entry.id) == (first.grant.id, first.result.entry.id)
    with pytest.raises(ledger.InvalidRequest):
        ledger.grant(
            "acme", 100, "promotional", "promo-2", expires_at=expires, now=expires + timedelta(hours=1)
        )

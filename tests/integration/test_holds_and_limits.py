"""Holds reserve credits until captured, released or expired; limits set the floor and the low-balance mark.

Time travel goes through the library (``now=``) where the HTTP layer has no clock to move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from devkit.tables import scan

ACCOUNT = "acme"


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


def service(function: str, method: str, route: str, body: Any = None, **params: str) -> tuple[int, Any]:
    event = http_event(method, route, {"account_id": ACCOUNT, **params}, body, iam=True)
    return parse(invoke(function, event))


def grant(amount: int, key: str = "seed") -> None:
    body = {"amount": amount, "source": "purchase", "idempotency_key": key}
    assert service("grants", "POST", "/accounts/{account_id}/grants", body)[0] == 201


def debit(amount: int, key: str) -> tuple[int, Any]:
    body = {"amount": amount, "operation": "render", "idempotency_key": key}
    return service("debit", "POST", "/accounts/{account_id}/usage", body)


def place(amount: int, key: str) -> tuple[int, Any]:
    return service(
        "holds", "POST", "/accounts/{account_id}/holds", {"amount": amount, "idempotency_key": key}
    )


def capture(hold_id: str, amount: int | None = None) -> tuple[int, Any]:
    body = {} if amount is None else {"amount": amount}
    return service("holds", "POST", "/accounts/{account_id}/holds/{hold_id}/capture", body, hold_id=hold_id)


def release(hold_id: str) -> tuple[int, Any]:
    return service("holds", "POST", "/accounts/{account_id}/holds/{hold_id}/release", hold_id=hold_id)


def get_hold(hold_id: str, account: str = ACCOUNT) -> tuple[int, Any]:
    event = http_event(
        "GET",
        "/accounts/{account_id}/holds/{hold_id}",
        {"account_id": account, "hold_id": hold_id},
        iam=True,
    )
    return parse(invoke("holds", event))


def card() -> dict[str, Any]:
    event = http_event(
        "GET", "/accounts/{account_id}/balance", {"account_id": ACCOUNT}, claims=owner(ACCOUNT)
    )
    status, body = parse(invoke("balance", event))
    assert status == 200
    return body


def limits(body: dict[str, int] | None = None, account: str = ACCOUNT) -> tuple[int, Any]:
    event = http_event(
        "PUT" if body is not None else "GET",
        "/accounts/{account_id}/limits",
        {"account_id": account},
        body,
        claims=owner(account),
    )
    return parse(invoke("limits", event))


def assert_refused(expected: tuple[int, str], call: Any, *args: Any) -> dict[str, Any]:
    before = scan()
    status, payload = call(*args)
    assert (status, payload["error"]) == expected, payload
    assert scan() == before
    return payload


# Holds.


def test_debit_cannot_eat_into_held_credits(journal: StreamPump) -> None:
    grant(1000)
    assert place(300, "h")[0] == 201
    payload = assert_refused((402, "insufficient_credits"), debit, 701, "d-1")
    assert (payload["available"], payload["requested"]) == (700, 701)
    status, body = debit(700, "d-2")
    assert status == 201
    assert (body["balance"], body["available"]) == (300, 0)
    payload = assert_refused((402, "insufficient_credits"), debit, 1, "d-3")
    assert (payload["available"], payload["requested"]) == (0, 1)


def test_holds_add_up_and_cannot_exceed_what_is_available(journal: StreamPump) -> None:
    grant(1000)
    assert place(600, "h-1")[0] == 201
    payload = assert_refused((402, "insufficient_credits"), place, 401, "h-2")
    assert (payload["available"], payload["requested"]) == (400, 401)
    assert place(400, "h-3")[0] == 201
    state = card()
    assert (state["balance"], state["held"], state["available"]) == (1000, 1000, 0)


def test_releasing_a_hold_frees_its_credits(journal: StreamPump) -> None:
    grant(1000)
    hold_id = place(1000, "h")[1]["hold_id"]
    assert debit(1, "d-1")[0] == 402
    status, released = release(hold_id)
    assert (status, released["released"], released["available"]) == (200, 1000, 1000)
    assert debit(1000, "d-2")[0] == 201


def test_expired_hold_cannot_be_captured_and_its_credits_are_freed(journal: StreamPump) -> None:
    grant(1000)
    past = datetime.now(UTC) - timedelta(hours=1)
    placed, replayed = ledger.place_hold(ACCOUNT, 300, "old-job", expires_in_seconds=60, now=past)
    assert not replayed
    hold_id = placed.hold_id

    status, seen = get_hold(hold_id)
    assert (status, seen["status"], seen["amount"]) == (200, "expired", 300)
    assert_refused((409, "hold_expired"), capture, hold_id, 100)
    assert_refused((409, "hold_expired"), capture, hold_id)
    assert_refused((409, "hold_expired"), release, hold_id)

    status, body = debit(1000, "uses-the-freed-credits")
    assert status == 201, body
    assert (body["balance"], body["available"]) == (0, 0)
    status, seen = get_hold(hold_id)
    assert (status, seen["status"], seen["released"]) == (200, "expired", 300)
    assert_refused((409, "hold_expired"), capture, hold_id, 100)

    journal.pump()
    state = card()
    assert (state["balance"], state["held"], state["available"]) == (0, 0, 0)
    types = [t["type"] for t in state["recent_transactions"]]
    assert types == ["consumption", "release", "hold", "purchase"]
    assert state["recent_transactions"][1]["amount"] == 0


def test_hold_that_expires_later_is_still_capturable_until_then(journal: StreamPump) -> None:
    grant(1000)
    status, placed = service(
        "holds",
        "POST",
        "/accounts/{account_id}/holds",
        {"amount": 200, "idempotency_key": "h", "expires_in_seconds": 60},
    )
    assert status == 201
    hold_id = placed["hold_id"]
    later = datetime.now(UTC) + timedelta(seconds=61)
    with pytest.raises(ledger.HoldExpired):
        ledger.capture_hold(ACCOUNT, hold_id, 50, now=later)
    assert ledger.get_hold(ACCOUNT, hold_id, now=later).status == "expired"
    status, done = capture(hold_id, 50)  # now: still open
    assert (status, done["captured"], done["released"], done["balance"]) == (200, 50, 150, 950)


def test_capture_more_than_held_is_refused(journal: StreamPump) -> None:
    grant(1000)
    hold_id = place(100, "h")[1]["hold_id"]
    payload = assert_refused((422, "capture_exceeds_hold"), capture, hold_id, 101)
    assert payload.get("held") == 100
    assert get_hold(hold_id)[1]["status"] == "open"
    status, done = capture(hold_id, 100)
    assert (status, done["captured"], done["released"], done["available"]) == (200, 100, 0, 900)


@pytest.mark.parametrize("account", [ACCOUNT, "never-seen"])
def test_unknown_hold_is_404(journal: StreamPump, account: str) -> None:
    grant(1000)
    before = scan()
    status, payload = get_hold("hold_doesnotexist", account)
    assert (status, payload["error"]) == (404, "not_found")
    params = {"account_id": account, "hold_id": "hold_doesnotexist"}
    for action, body in (("capture", {"amount": 1}), ("capture", {}), ("release", None)):
        event = http_event("POST", "/accounts/{account_id}/holds/{hold_id}/" + action, params, body, iam=True)
        status, payload = parse(invoke("holds", event))
        assert (status, payload["error"]) == (404, "not_found"), action
    assert scan() == before


def test_hold_of_another_account_is_not_found(journal: StreamPump) -> None:
    grant(1000)
    hold_id = place(100, "h")[1]["hold_id"]
    status, payload = get_hold(hold_id, "globex")
    assert (status, payload["error"]) == (404, "not_found")


# Limits.


def test_default_limits(journal: StreamPump) -> None:
    assert limits(account="never-seen") == (200, {"low_balance_threshold": 100, "hard_limit": 0})
    grant(10)
    assert limits() == (200, {"low_balance_threshold": 100, "hard_limit": 0})


def test_default_threshold_comes_from_the_environment(
    journal: StreamPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_LOW_BALANCE_THRESHOLD", "250")
    assert limits()[1] == {"low_balance_threshold": 250, "hard_limit": 0}
    assert card()["low_balance_threshold"] == 250


def test_put_then_get_limits(journal: StreamPump) -> None:
    grant(1000)
    assert limits({"low_balance_threshold": 25, "hard_limit": 200}) == (
        200,
        {"low_balance_threshold": 25, "hard_limit": 200},
    )
    assert limits() == (200, {"low_balance_threshold": 25, "hard_limit": 200})
    state = card()
    assert (state["low_balance_threshold"], state["hard_limit"], state["balance"]) == (25, 200, 1000)
    assert limits({"low_balance_threshold": 0, "hard_limit": 0})[0] == 200
    assert limits() == (200, {"low_balance_threshold": 0, "hard_limit": 0})


@pytest.mark.parametrize("hard_limit", [-1, -50, -(10**12)])
def test_account_cannot_give_itself_an_overdraft(journal: StreamPump, hard_limit: int) -> None:
    grant(100)
    assert_refused((422, "invalid_request"), limits, {"low_balance_threshold": 10, "hard_limit": hard_limit})
    assert limits() == (200, {"low_balance_threshold": 100, "hard_limit": 0})
    assert debit(101, "d")[0] == 402


def test_account_may_keep_or_narrow_an_overdraft_it_was_granted_but_not_widen_it(journal: StreamPump) -> None:
    ledger.set_limits(ACCOUNT, 100, -50, allow_overdraft=True)
    assert limits() == (200, {"low_balance_threshold": 100, "hard_limit": -50})
    assert limits({"low_balance_threshold": 10, "hard_limit": -50})[0] == 200
    assert_refused((422, "invalid_request"), limits, {"low_balance_threshold": 10, "hard_limit": -51})
    assert limits({"low_balance_threshold": 10, "hard_limit": -20})[0] == 200
    assert_refused((422, "invalid_request"), limits, {"low_balance_threshold": 10, "hard_limit": -50})
    assert limits() == (200, {"low_balance_threshold": 10, "hard_limit": -20})


def test_reserve_blocks_debits_that_would_cross_it(journal: StreamPump) -> None:
    grant(1000)
    assert limits({"low_balance_threshold": 100, "hard_limit": 200})[0] == 200
    payload = assert_refused((402, "insufficient_credits"), debit, 801, "d-1")
    assert payload["requested"] == 801
    assert_refused((402, "insufficient_credits"), place, 801, "h-1")
    status, body = debit(800, "d-2")
    assert (status, body["balance"]) == (201, 200)
    assert_refused((402, "insufficient_credits"), debit, 1, "d-3")
    assert_refused((402, "insufficient_credits"), place, 1, "h-2")
    # lowering the reserve frees credits again
    assert limits({"low_balance_threshold": 100, "hard_limit": 150})[0] == 200
    assert debit(50, "d-4")[0] == 201
    assert debit(1, "d-5")[0] == 402


@pytest.mark.parametrize("write", ["debit", "hold"])
def test_refusal_at_the_reserve_reports_the_floor_and_what_can_be_spent(
    journal: StreamPump, write: str
) -> None:
    grant(1000)
    assert limits({"low_balance_threshold": 100, "hard_limit": 200})[0] == 200
    payload = assert_refused((402, "insufficient_credits"), debit if write == "debit" else place, 801, "x")
    assert (payload["available"], payload["hard_limit"], payload["requested"]) == (1000, 200, 801)
    assert "only 800 can be spent above the floor of 200" in payload["message"]


def test_overdraft_granted_by_the_service_goes_exactly_to_the_floor(journal: StreamPump) -> None:
    grant(100)
    assert ledger.set_limits(ACCOUNT, 100, -50, allow_overdraft=True).hard_limit == -50
    assert_refused((402, "insufficient_credits"), debit, 151, "d-1")
    status, body = debit(150, "d-2")
    assert (status, body["balance"], body["available"], body["entry"]["balance_after"]) == (
        201,
        -50,
        -50,
        -50,
    )
    assert_refused((402, "insufficient_credits"), debit, 1, "d-3")
    journal.pump()
    state = card()
    assert (state["balance"], state["available"], state["hard_limit"], state["low_balance"]) == (
        -50,
        -50,
        -50,
        True,
    )


def test_low_balance_flips_at_the_threshold(journal: StreamPump) -> None:
    grant(101)
    assert (card()["low_balance"], card()["available"]) == (False, 101)
    assert debit(1, "d-1")[0] == 201
    assert (card()["low_balance"], card()["available"]) == (True, 100)
    assert limits({"low_balance_threshold": 99, "hard_limit": 0})[0] == 200
    assert card()["low_balance"] is False
    assert debit(1, "d-2")[0] == 201
    assert card()["low_balance"] is True


def test_low_balance_counts_held_credits_as_unavailable(journal: StreamPump) -> None:
    grant(300)
    assert card()["low_balance"] is False
    hold_id = place(200, "h")[1]["hold_id"]
    state = card()
    assert (state["balance"], state["available"], state["low_balance"]) == (300, 100, True)
    assert release(hold_id)[0] == 200
    assert card()["low_balance"] is False

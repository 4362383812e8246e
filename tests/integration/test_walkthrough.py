"""The service and account routes together, through their handlers, against the template's table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump


@contextmanager
def freeze(moment: datetime) -> Iterator[None]:
    """Handlers take "now" from the clock: move the ledger's clock to ``moment``."""
    with mock.patch("ledger.usecases.balance.utcnow", return_value=moment):
        yield


def grant(account: str, amount: int, key: str, **extra: object) -> tuple[int, dict]:
    body = {"amount": amount, "source": "promotional", "idempotency_key": key, **extra}
    event = http_event("POST", "/accounts/{account_id}/grants", {"account_id": account}, body, iam=True)
    return parse(invoke("grants", event))


def debit(account: str, amount: int, key: str, operation: str = "render") -> tuple[int, dict]:
    body = {"amount": amount, "operation": operation, "idempotency_key": key}
    event = http_event("POST", "/accounts/{account_id}/usage", {"account_id": account}, body, iam=True)
    return parse(invoke("debit", event))


def balance(account: str) -> tuple[int, dict]:
    event = http_event(
        "GET", "/accounts/{account_id}/balance", {"account_id": account}, claims=owner(account)
    )
    return parse(invoke("balance", event))


def transactions(account: str, **query: str) -> dict:
    event = http_event(
        "GET",
        "/accounts/{account_id}/transactions",
        {"account_id": account},
        query=query,
        claims=owner(account),
    )
    status, body = parse(invoke("transactions", event))
    assert status == 200, body
    return body


def test_grant_debit_hold_capture_then_balance_card_and_history(journal: StreamPump) -> None:
    assert grant("acme", 1000, "welcome")[0] == 201
    status, body = debit("acme", 150, "job-1")
    assert status == 201
    assert body["entry"]["type"] == "consumption"
    assert (body["entry"]["amount"], body["entry"]["balance_after"]) == (-150, 850)
    assert (body["balance"], body["available"]) == (850, 850)

    hold = parse(
        invoke(
            "holds",
            http_event(
                "POST",
                "/accounts/{account_id}/holds",
                {"account_id": "acme"},
                {"amount": 300, "idempotency_key": "h-1"},
                iam=True,
            ),
        )
    )
    assert hold[0] == 201 and hold[1]["status"] == "open"
    hold_id = hold[1]["hold_id"]
    status, captured = parse(
        invoke(
            "holds",
            http_event(
                "POST",
                "/accounts/{account_id}/holds/{hold_id}/capture",
                {"account_id": "acme", "hold_id": hold_id},
                {"amount": 120},
                iam=True,
            ),
        )
    )
    assert status == 200
    assert (captured["captured"], captured["released"], captured["available"]) == (120, 180, 730)

    journal.pump()
    status, card = balance("acme")
    assert status == 200
    assert (card["balance"], card["held"], card["available"]) == (730, 0, 730)
    assert (card["lifetime_added"], card["lifetime_spent"], card["lifetime_expired"]) == (1000, 270, 0)
    assert [t["type"] for t in card["recent_transactions"]] == ["capture", "hold", "consumption", "grant"]
    assert card["estimated_runway_seconds"] == 730 * 7 * 86400 // 270

    page = transactions("acme", limit="2")
    assert [i["balance_after"] for i in page["items"]] == [730, 850]
    rest = transactions("acme", limit="50", cursor=page["next_cursor"])
    assert [i["balance_after"] for i in rest["items"]] == [850, 1000]


def test_unknown_account_reads_as_a_zero_balance_card(aws: None) -> None:
    status, card = balance("never-seen")
    assert status == 200
    assert (card["balance"], card["available"], card["recent_transactions"]) == (0, 0, [])
    assert card["low_balance"] is True


def test_debit_beyond_available_is_402_and_writes_nothing(journal: StreamPump) -> None:
    grant("acme", 100, "g")
    status, body = debit("acme", 101, "too-much")
    assert status == 402
    assert body == {
        "error": "insufficient_credits",
        "message": "101 credits requested but only 100 can be spent",
        "available": 100,
        "requested": 101,
        "hard_limit": 0,
    }
    journal.pump()
    assert balance("acme")[1]["balance"] == 100


def test_balance_card_counts_expiries_no_write_has_settled_yet(aws: None) -> None:
    now = datetime.now(UTC)
    ledger.grant("acme", 500, "promotional", "soon", expires_at=now + timedelta(seconds=5), now=now)
    ledger.grant("acme", 50, "purchase", "kept", now=now)
    ledger.place_hold("acme", 30, "h", expires_in_seconds=5, now=now)
    later = now + timedelta(minutes=1)
    with freeze(later):
        card = balance("acme")[1]
    assert (card["balance"], card["held"], card["available"], card["lifetime_expired"]) == (50, 0, 50, 500)
    assert card["expiring_soon"] == []
    # the next spending write settles it for real, and agrees
    result = ledger.debit("acme", 50, "render", "all", now=later)
    assert (result.balance, result.available) == (0, 0)


def test_capture_without_a_body_captures_the_whole_hold(aws: None) -> None:
    grant("acme", 100, "g")
    hold = ledger.place_hold("acme", 40, "h")[0]
    event = http_event(
        "POST",
        "/accounts/{account_id}/holds/{hold_id}/capture",
        {"account_id": "acme", "hold_id": hold.hold_id},
        iam=True,
    )
    status, body = parse(invoke("holds", event))
    assert (status, body["captured"], body["released"], body["balance"]) == (200, 40, 0, 60)

"""A newcomer's walk through the API over HTTP: grant, debit, hold and capture, balance card, history."""

from __future__ import annotations

from tests.e2e.conftest import Stack

ACCOUNT = "walk"


def test_grant_debit_hold_capture_then_read_the_card_and_the_history(stack: Stack) -> None:
    token = stack.token(ACCOUNT)
    base = f"/accounts/{ACCOUNT}"

    granted = stack.service_call(
        "POST", f"{base}/grants", {"amount": 1000, "source": "promotional", "idempotency_key": "welcome"}
    )
    assert granted.status == 201, granted.body
    assert (granted.body["balance"], granted.body["available"]) == (1000, 1000)

    debited = stack.service_call(
        "POST", f"{base}/usage", {"amount": 25, "operation": "render", "idempotency_key": "job-1"}
    )
    assert debited.status == 201, debited.body
    assert debited.body["balance"] == 975

    hold = stack.service_call("POST", f"{base}/holds", {"amount": 100, "idempotency_key": "job-2"})
    assert hold.status == 201, hold.body
    assert hold.body["status"] == "open"
    captured = stack.service_call("POST", f"{base}/holds/{hold.body['hold_id']}/capture", {"amount": 60})
    assert captured.status == 200, captured.body
    assert (captured.body["captured"], captured.body["released"], captured.body["balance"]) == (60, 40, 915)

    too_much = stack.service_call(
        "POST", f"{base}/usage", {"amount": 10_000, "operation": "render", "idempotency_key": "job-3"}
    )
    assert (too_much.status, too_much.body["error"]) == (402, "insufficient_credits")

    card = stack.account("GET", f"{base}/balance", token)
    assert card.status == 200
    assert (card.body["balance"], card.body["held"], card.body["available"]) == (915, 0, 915)
    assert (card.body["lifetime_added"], card.body["lifetime_spent"]) == (1000, 85)

    # the journal, fed from the table's stream, writes the history with exact running balances
    entries = stack.history(ACCOUNT, expected=4)
    assert [(e["type"], e["amount"], e["balance_after"]) for e in entries] == [
        ("capture", -60, 915),
        ("hold", 0, 975),
        ("consumption", -25, 975),
        ("grant", 1000, 1000),
    ]

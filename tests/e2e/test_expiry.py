"""The expiry sweep fired with ``credits-local trigger`` as of a chosen time: the grant expires exactly, and the
notifications function, fed from the table's stream, publishes credits_expired to the bus."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e.conftest import Stack

ACCOUNT = "expiring"


def bus_events(stack: Stack, detail_type: str, account: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [
            e
            for e in stack.request("GET", "/_local/events").body["events"]
            if e["detail-type"] == detail_type and e["detail"].get("account_id") == account
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_trigger_runs_the_sweep_as_of_the_given_time(stack: Stack) -> None:
    base = f"/accounts/{ACCOUNT}"
    grant = {
        "amount": 300,
        "source": "promotional",
        "idempotency_key": "trial",
        "expires_at": "2031-01-01T00:00:00Z",
    }
    assert stack.service_call("POST", f"{base}/grants", grant).status == 201
    used = {"amount": 120, "operation": "render", "idempotency_key": "job"}
    assert stack.service_call("POST", f"{base}/usage", used).status == 201

    stack.cli("trigger", "ExpirySweepFunction", "--time", "2030-12-31T23:00:00Z")  # an hour early
    assert stack.account("GET", f"{base}/balance", stack.token(ACCOUNT)).body["lifetime_expired"] == 0

    swept = json.loads(stack.cli("trigger", "ExpirySweepFunction", "--time", "2031-01-01T00:00:00Z").stdout)
    assert swept["complete"] and swept["accounts"] >= 1 and swept["expired"] >= 180
    card = stack.account("GET", f"{base}/balance", stack.token(ACCOUNT)).body
    assert (card["balance"], card["lifetime_expired"]) == (0, 180)

    [expired] = bus_events(stack, "credits_expired", ACCOUNT)
    assert expired["source"] == "prepaid-credits"
    assert (expired["detail"]["credits"], expired["detail"]["balance"]) == (180, 0)

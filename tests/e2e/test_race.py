"""16 clients debiting one account at once over HTTP: never an overdraft, every credit accounted for."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Stack

ACCOUNT = "race"
GRANT = 600
THREADS = 16
DEBITS_PER_THREAD = 8  # about twice what the grant can pay
SEED = 20261121


def test_concurrent_debits_over_http_never_overdraw(stack: Stack) -> None:
    base = f"/accounts/{ACCOUNT}"
    granted = stack.service_call(
        "POST", f"{base}/grants", {"amount": GRANT, "source": "promotional", "idempotency_key": "race-grant"}
    )
    assert granted.status == 201
    start = threading.Barrier(THREADS)

    def client(index: int) -> tuple[dict[str, int], int, list[int]]:
        rng, accepted, refused, seen_available = random.Random(SEED + index), {}, 0, []
        start.wait()
        for step in range(DEBITS_PER_THREAD):
            key, amount = f"r{index}-{step}", rng.randint(1, 20)
            reply = stack.service_call(
                "POST", f"{base}/usage", {"amount": amount, "operation": "render", "idempotency_key": key}
            )
            assert reply.status in (201, 402), reply.body
            if reply.status == 201:
                accepted[key] = amount
                seen_available.append(reply.body["available"])
            else:
                assert reply.body["error"] == "insufficient_credits"
                refused += 1
        return accepted, refused, seen_available

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(client, range(THREADS)))

    accepted = {k: v for done, _, _ in results for k, v in done.items()}
    spent = sum(accepted.values())
    assert sum(refused for _, refused, _ in results) > 0, "the race should exhaust the grant"
    assert min(a for _, _, seen in results for a in seen) >= 0
    card = stack.account("GET", f"{base}/balance", stack.token(ACCOUNT)).body
    assert 0 <= card["available"] == card["balance"] == GRANT - spent
    assert card["lifetime_spent"] == spent
    # one history entry per accepted debit, exactly the amounts accepted
    entries = stack.history(ACCOUNT, expected=len(accepted) + 1)
    consumption = {e["reference"]: -e["amount"] for e in entries if e["type"] == "consumption"}
    assert consumption == accepted

"""credits-admin hot against the running local stack: a hot account's debits go through its spend shards and
the stack's journal posts them into the account's one numbered history; bad shard counts are refused."""

from __future__ import annotations

from tests.e2e.conftest import Stack


def test_an_account_made_hot_spends_through_its_shards_into_one_history(stack: Stack) -> None:
    account = "hot-e2e"
    body = {"amount": 1_000, "source": "promotional", "idempotency_key": "g"}
    assert stack.service_call("POST", f"/accounts/{account}/grants", body).status == 201
    made = stack.admin("hot", "--account", account, "--shards", "4")
    assert made.returncode == 0, made.stderr
    assert f"{account} is hot with 4 spend shards" in made.stderr
    for n in range(12):
        debit = {"amount": 10 + n, "operation": "render", "idempotency_key": f"d{n}"}
        assert stack.service_call("POST", f"/accounts/{account}/usage", debit).status == 201
    refused = {"amount": 10_000, "operation": "render", "idempotency_key": "too-much"}
    answer = stack.service_call("POST", f"/accounts/{account}/usage", refused)
    assert answer.status == 402 and answer.body["available"] == 1_000 - sum(10 + n for n in range(12))
    entries = stack.history(account, 13)  # posted by the stack's journal into one history
    assert len(entries) == 13 and sorted(e["amount"] for e in entries[:12]) == [
        -(10 + n) for n in range(11, -1, -1)
    ]
    running = 0
    for entry in reversed(entries):  # exact running balances, in the order the journal numbered them
        running += entry["amount"]
        assert entry["balance_after"] == running
    assert running == 1_000 - sum(10 + n for n in range(12))
    for bad in ("1", "33", "-2"):
        wrong = stack.admin("hot", "--account", account, "--shards", bad)
        assert wrong.returncode == 1 and "shards must be 0" in wrong.stderr
    assert stack.admin("hot", "--account", account, "--shards", "0").returncode == 0

"""POST /usage/batch and ledger.debit_many: one result per event, in request order; each account's events in
order and never below its floor; one account's events never refused because of another's; the idempotency
contract of a single debit; a body that is not a batch writes nothing."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from devkit.depth import depth
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from devkit.tables import scan
from ledger.store import table as ledger_table

ROUTE = "/usage/batch"


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


def usage(account: str, amount: Any, key: str, operation: str = "render", **more: Any) -> dict[str, Any]:
    return {"account_id": account, "amount": amount, "operation": operation, "idempotency_key": key, **more}


def post(body: Any = None, raw: str | None = None, **kwargs: Any) -> tuple[int, Any]:
    kwargs.setdefault("iam", True)
    return parse(invoke("usage_batch", http_event("POST", ROUTE, {}, body, raw_body=raw, **kwargs)))


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


def test_each_event_gets_its_result_in_request_order(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g-acme")
    ledger.grant("globex", 10, "purchase", "g-globex")
    status, body = post(
        {
            "events": [
                usage("acme", 30, "a1"),
                usage("globex", 50, "x1"),  # more than globex has
                usage("acme", 80, "a2"),  # more than acme has left: refused, and acme goes on
                usage("acme", 70, "a3", metadata={"job": "7"}),
                usage("globex", 10, "x2"),  # globex's own credits, whatever happened to acme
                usage("acme", 1, "a4"),  # acme is at 0 now
            ]
        }
    )
    assert status == 200, body
    assert statuses(body) == [
        "accepted",
        "insufficient_credits",
        "insufficient_credits",
        "accepted",
        "accepted",
        "insufficient_credits",
    ]
    results = body["results"]
    assert (results[0]["entry"]["amount"], results[0]["entry"]["balance_after"]) == (-30, 70)
    assert (results[3]["entry"]["balance_after"], results[3]["entry"]["metadata"]) == (0, {"job": "7"})
    assert (results[3]["balance"], results[3]["available"]) == (0, 0)
    assert (results[1]["error"], results[1]["available"], results[1]["requested"]) == (
        "insufficient_credits",
        10,
        50,
    )
    assert (results[2]["available"], results[2]["requested"]) == (70, 80)
    assert (results[4]["entry"]["balance_after"], results[4]["balance"]) == (0, 0)
    assert results[5]["available"] == 0 and "entry" not in results[5]

    journal.pump()
    history = [(e.amount, e.balance_after, e.seq) for e in ledger.history("acme").items]
    assert history == [(-70, 0, 3), (-30, 70, 2), (100, 100, 1)]
    today = datetime.now(UTC).date()
    assert ledger.usage("acme", today, today).by_operation == {"render": 100}
    card = ledger.balance_card("acme").account
    assert (card.balance, card.lifetime_spent, card.seq) == (0, 100, 3)


def test_retries_answer_with_the_first_result_and_another_body_is_a_conflict(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    single = ledger.debit("acme", 5, "render", "single")
    _, first = post({"events": [usage("acme", 10, "k1"), usage("acme", 20, "k2")]})
    journal.pump()
    status, again = post(
        {
            "events": [
                usage("acme", 10, "k1"),  # the same event again
                usage("acme", 21, "k2"),  # the same key, another amount
                usage("acme", 5, "single"),  # a key a single debit used, same body
                usage("acme", 3, "k3"),
                usage("acme", 3, "k3"),  # twice in one batch
                usage("acme", 4, "k3"),  # and once more with another body
            ]
        }
    )
    assert status == 200
    assert statuses(again) == ["duplicate", "conflict", "duplicate", "accepted", "duplicate", "conflict"]
    assert again["results"][0]["entry"] == first["results"][0]["entry"]
    assert again["results"][2]["entry"]["id"] == single.entry.id
    assert again["results"][1]["error"] == "idempotency_conflict"
    assert again["results"][4]["entry"] == again["results"][3]["entry"]
    assert ledger.balance_card("acme").account.balance == 100 - 5 - 10 - 20 - 3
    # and a batch's key retried as a single debit is a replay too
    replayed = ledger.debit("acme", 10, "render", "k1")
    assert replayed.replayed and replayed.entry.id == first["results"][0]["entry"]["id"]


def test_invalid_events_get_their_own_result_and_the_others_are_applied(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    bad = [
        usage("acme", 0, "b1"),
        usage("acme", 2.0, "b2"),
        usage("acme", "3", "b3"),
        usage("acme", True, "b4"),
        usage("acme", 1, "bad key!"),
        usage("acme", 1, "b6", operation="Not An Operation"),
        usage("acme", 1, "b7", metadata={"": "v"}),
        usage("acme#1", 1, "b8"),
        usage(5, 1, "b9"),  # type: ignore[arg-type]
        {"account_id": "acme", "amount": 1, "operation": "render"},
        {**usage("acme", 1, "b11"), "colour": "red"},
        "not an event",
        None,
        [],
    ]
    status, body = post({"events": [usage("acme", 7, "ok1"), *bad, usage("acme", 8, "ok2")]})
    assert status == 200
    assert statuses(body) == ["accepted", *["invalid"] * len(bad), "accepted"]
    for result in body["results"][1:-1]:
        assert result["error"] == "invalid_request" and result["message"], result
    assert body["results"][-1]["entry"]["balance_after"] == 85
    journal.pump()
    assert [e.amount for e in ledger.history("acme").items] == [-8, -7, 100]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"raw": "{not json"}, (400, "malformed_json")),
        (
            {"raw": json.dumps({"events": [usage("acme", 1, f"k{i}") for i in range(101)]})},
            (422, "invalid_request"),
        ),
        ({"raw": json.dumps({"events": []})}, (422, "invalid_request")),
        ({"raw": json.dumps({"events": {"0": usage("acme", 1, "k")}})}, (422, "invalid_request")),
        ({"raw": json.dumps([usage("acme", 1, "k")])}, (422, "invalid_request")),
        ({"raw": json.dumps({"events": [usage("acme", 1, "k")], "extra": 1})}, (422, "invalid_request")),
        (
            {
                "raw": json.dumps(
                    {
                        "events": [usage("acme", 1, "k", metadata={"pad": "x" * 256})] * 100,
                        "p": "x" * 1024 * 1024,
                    }
                )
            },
            (413, "payload_too_large"),
        ),
        (
            {
                "raw": json.dumps({"events": [usage("acme", 1, "k")]}),
                "headers": {"content-type": "text/plain"},
            },
            (415, "unsupported_media_type"),
        ),
    ],
    ids=[
        "not-json",
        "101-events",
        "no-events",
        "events-not-a-list",
        "a-bare-list",
        "unknown-field",
        "over-1mb",
        "not-json-media",
    ],
)
def test_a_body_that_is_not_a_batch_writes_nothing(
    journal: StreamPump, kwargs: dict, expected: tuple
) -> None:
    ledger.grant("acme", 100, "purchase", "g")
    before = scan()
    status, body = post(**kwargs)
    assert (status, body["error"]) == expected, body
    assert body["message"]
    assert scan() == before


def test_only_iam_callers_and_before_the_body_is_read() -> None:
    for caller in ({"claims": owner("acme"), "iam": False}, {"iam": False}):
        status, body = post(raw="{not json", **caller)
        assert (status, body["error"]) == (403, "forbidden")


def test_a_hundred_events_of_one_account_in_two_writes_keep_the_account_item_small(
    journal: StreamPump,
) -> None:
    ledger.grant("acme", 10_000, "purchase", "g")
    status, body = post(
        {"events": [usage("acme", 1 + i % 7, f"e{i}", metadata={"run": str(i)}) for i in range(100)]}
    )
    assert status == 200 and set(statuses(body)) == {"accepted"}
    balances = [r["entry"]["balance_after"] for r in body["results"]]
    spent = sum(1 + i % 7 for i in range(100))
    running, expected = 10_000, []
    for i in range(100):
        running -= 1 + i % 7
        expected.append(running)
    assert balances == expected
    account = ledger_table.get_item("acme", ledger_table.ACCOUNT_SK) or {}
    assert len(json.dumps(account, default=str)) < 1024  # the changes are in the batch items, not here
    journal.pump()
    entries = ledger.history("acme", limit=200).items
    assert [e.seq for e in entries] == list(range(101, 0, -1))
    assert [e.balance_after for e in reversed(entries[:100])] == expected
    assert ledger.balance_card("acme").account.balance == 10_000 - spent


def test_a_batch_after_an_unsettled_expiry_settles_it_first(journal: StreamPump) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    ledger.grant("acme", 50, "promotional", "soon", expires_at=start + timedelta(hours=1), now=start)
    ledger.grant("acme", 20, "purchase", "lasting", now=start)
    later = start + timedelta(hours=2)
    results = ledger.debit_many([usage("acme", 15, "u1"), usage("acme", 10, "u2")], now=later)
    assert [r.status for r in results] == ["accepted", "insufficient_credits"]
    assert results[0].result is not None and results[0].result.balance == 5
    journal.pump()
    assert [e.type for e in ledger.history("acme").items] == ["consumption", "expiry", "purchase", "grant"]


@pytest.mark.slow
@pytest.mark.deep
def test_threads_of_batches_and_single_debits_never_overdraw_one_account(
    server_table: str, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 threads against a single-threaded moto server: batches (some repeating earlier keys) and single
    debits on one account, alongside the journal: never below the floor, no key applied twice, and the
    entries add up to the balance."""
    grant = 20_000
    monkeypatch.setenv("LEDGER_RESULT_WAIT_SECONDS", "0")  # the journal runs after: results carry entry ids
    ledger.grant("hot", grant, "purchase", "g")
    ledger_table.client()
    journal = StreamPump(server_table, endpoint_url=moto_server)
    applied: dict[str, tuple[int, str]] = {}
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def record(key: str, amount: int, status: str, entry_id: str | None) -> None:
        with lock:
            outcomes[status] += 1
            if status == "accepted":
                assert key not in applied, f"{key} applied twice"
                applied[key] = (amount, entry_id or "")
            elif status == "duplicate":
                assert applied[key][1] == entry_id, f"a duplicate of {key} answered another entry"

    def worker(index: int) -> None:
        rng = random.Random(index)
        mine: list[tuple[str, int]] = []
        for step in range(depth(6, 12)):  # devkit/depth.py
            if rng.random() < 0.25:
                key, amount = f"s{index}-{step}", rng.randint(1, 40)
                try:
                    result = ledger.debit("hot", amount, "render", key)
                    record(key, amount, "accepted", result.entry.id)
                    mine.append((key, amount))
                except ledger.InsufficientCredits:
                    record(key, amount, "insufficient_credits", None)
                continue
            events = [(f"b{index}-{step}-{n}", rng.randint(1, 40)) for n in range(rng.randint(1, 40))]
            events += rng.sample(mine, min(len(mine), 2))  # retries of earlier ones
            for (key, amount), outcome in zip(
                events, ledger.debit_many([usage("hot", amount, key) for key, amount in events]), strict=True
            ):
                entry = outcome.result.entry.id if outcome.result else None
                record(key, amount, outcome.status, entry)
                if outcome.status == "accepted":
                    mine.append((key, amount))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(worker, range(16)))
    while journal.pump():
        pass

    spent = sum(amount for amount, _ in applied.values())
    card = ledger.balance_card("hot").account
    assert card.balance == grant - spent >= 0, outcomes
    assert outcomes["insufficient_credits"] > 0 and outcomes["duplicate"] > 0, outcomes  # the account ran dry
    entries, cursor = [], None
    while True:
        page = ledger.history("hot", limit=200, cursor=cursor)
        entries += page.items
        if not (cursor := page.next_cursor):
            break
    consumption = {e.reference: -e.amount for e in entries if e.type == "consumption"}
    assert consumption == {key: amount for key, (amount, _) in applied.items()}
    running = 0
    for entry in reversed(entries):
        running += entry.amount
        assert entry.balance_after == running >= 0
    assert running == card.balance

"""A history page filtered by type holds up to ``limit`` entries of that type (or is the last), reading only
entries of that type however many others lie between them."""

from __future__ import annotations

from typing import Any

import pytest

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump


def page(query: dict[str, str]) -> tuple[int, Any]:
    event = http_event(
        "GET",
        "/accounts/{account_id}/transactions",
        {"account_id": "shop"},
        query=query,
        claims=owner("shop"),
    )
    return parse(invoke("transactions", event))


def test_one_purchase_then_55_debits_filtered_by_purchase(journal: StreamPump) -> None:
    ledger.grant("shop", 10_000, "purchase", "bought")
    for i in range(55):
        ledger.debit("shop", 1, "render", f"d{i}")
    journal.pump()
    status, body = page({"type": "purchase", "limit": "50"})
    assert status == 200
    assert [(e["type"], e["amount"]) for e in body["items"]] == [("purchase", 10_000)]
    assert body["next_cursor"] is None


def test_typed_pages_are_full_and_follow_their_cursor(journal: StreamPump) -> None:
    ledger.grant("shop", 10_000, "promotional", "g0")
    for i in range(30):
        ledger.debit("shop", 1, "render", f"d{i}")
        if i % 3 == 0:
            ledger.grant("shop", 5, "promotional", f"g{i + 1}")
    journal.pump()
    seen, cursor, pages = [], None, 0
    while True:
        query = {"type": "consumption", "limit": "7", **({"cursor": cursor} if cursor else {})}
        status, body = page(query)
        assert status == 200, body
        pages += 1
        assert all(e["type"] == "consumption" for e in body["items"])
        if body["next_cursor"]:
            assert len(body["items"]) == 7
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 30 and pages == 5
    assert [e["reference"] for e in seen] == [f"d{i}" for i in reversed(range(30))]


def test_a_cursor_of_another_type_is_refused(journal: StreamPump) -> None:
    ledger.grant("shop", 100, "promotional", "g")
    for i in range(3):
        ledger.debit("shop", 1, "render", f"d{i}")
    journal.pump()
    _, body = page({"type": "consumption", "limit": "1"})
    status, refused = page({"type": "grant", "limit": "1", "cursor": body["next_cursor"]})
    assert (status, refused["error"]) == (422, "invalid_request")


@pytest.mark.parametrize("limit", [1, 2])
def test_the_unfiltered_history_is_unchanged(journal: StreamPump, limit: int) -> None:
    ledger.grant("shop", 100, "promotional", "g")
    ledger.debit("shop", 1, "render", "d")
    journal.pump()
    status, body = page({"limit": str(limit)})
    assert status == 200 and len(body["items"]) == limit

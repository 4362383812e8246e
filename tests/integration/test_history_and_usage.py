"""History pages and the usage breakdown, as the journal builds them from the table's stream.

moto runs for the whole module: the paged history is built once, on a table the paging tests only read, and
every other test gets a fresh table of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count, pairwise
from typing import Any

import boto3
import pytest
from moto import mock_aws

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.tables import scan
from ledger.store import table as ledger_table
from tests.conftest import TABLE, create_table, isolated_environment

ACCOUNT = "acme"
DEBITS = list(range(1, 12))  # 11 debits of 1..11 credits after a grant of 1000: 12 entries

_table_numbers = count(1)


class Journal:
    """A table's stream into the journal function, as Lambda's event source mapping delivers it.

    Shard iterators are taken afresh on every pump, after the last record delivered: moto swaps the table's
    stream shard for a copy when it rolls a cancelled transaction back, so a kept iterator would read the
    rolled-back write and miss what came after."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.db, self.streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
        self.arn = self.db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.delivered: dict[str, str] = {}  # shard → last sequence number delivered
        self.read_up_to: dict[str, str] = {}

    def records(self) -> list[dict[str, Any]]:
        """What is new on the stream since the last pump (read, not delivered)."""
        out, self.read_up_to = [], {}
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            shard_id, after = shard["ShardId"], self.delivered.get(shard["ShardId"])
            position: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)
            records = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
            out += [{**r, "eventSourceARN": self.arn} for r in records]
            if records:
                self.read_up_to[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        return out

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Hand ``records`` to the journal function in batches of 100; none may fail."""
        for start in range(0, len(records), 100):
            response = invoke("journal", {"Records": records[start : start + 100]})
            assert response.get("batchItemFailures", []) == [], response

    def pump(self) -> list[dict[str, Any]]:
        """Deliver everything new; returns what was delivered."""
        records = self.records()
        self.deliver(records)
        self.delivered.update(self.read_up_to)
        return records


@pytest.fixture(scope="module")
def _aws() -> Iterator[None]:
    """moto for the whole module, so that the paged history is built once, on a table of its own."""
    with isolated_environment(), mock_aws():
        yield


def use_table(name: str, env: pytest.MonkeyPatch) -> None:
    env.setenv("TABLE_NAME", name)
    ledger_table.reset_client()


@pytest.fixture
def journal(_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journal]:
    """A fresh table for this test (in place of conftest's, which cannot nest in the module's moto)."""
    name = f"{TABLE}-{next(_table_numbers)}"
    use_table(name, monkeypatch)
    create_table(name)
    yield Journal(name)
    boto3.client("dynamodb").delete_table(TableName=name)


def read(account: str, function: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
    event = http_event("GET", path, {"account_id": account}, query=query, claims=owner(account))
    return parse(invoke(function, event))


def page(account: str, limit: int, cursor: str | None = None, type: str | None = None) -> dict[str, Any]:
    query = {"limit": str(limit)}
    if cursor:
        query["cursor"] = cursor
    if type:
        query["type"] = type
    status, body = read(account, "transactions", "/accounts/{account_id}/transactions", query)
    assert status == 200, body
    assert len(body["items"]) <= limit
    return body


def all_pages(
    account: str, limit: int, type: str | None = None, cursor: str | None = None
) -> list[list[dict[str, Any]]]:
    pages = []
    for _ in range(100):
        body = page(account, limit, cursor, type)
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("next_cursor never became null")


def usage(account: str, start: str, end: str) -> dict[str, Any]:
    status, body = read(account, "usage_report", "/accounts/{account_id}/usage", {"from": start, "to": end})
    assert status == 200, body
    return body


def service_write(account: str, function: str, route: str, body: dict[str, Any]) -> None:
    event = http_event("POST", route, {"account_id": account}, body, iam=True)
    status, payload = parse(invoke(function, event))
    assert status == 201, payload


def grant(account: str, amount: int, key: str) -> None:
    body = {"amount": amount, "source": "purchase", "idempotency_key": key}
    service_write(account, "grants", "/accounts/{account_id}/grants", body)


def debit(account: str, amount: int, key: str, operation: str = "render") -> None:
    body = {"amount": amount, "operation": operation, "idempotency_key": key}
    service_write(account, "debit", "/accounts/{account_id}/usage", body)


def assert_newest_first_without_gaps(items: list[dict[str, Any]], oldest_balance: int) -> None:
    assert len({i["id"] for i in items}) == len(items), "duplicates"
    for newer, older in pairwise(items):
        assert newer["balance_after"] - newer["amount"] == older["balance_after"], (newer, older)
    assert items[-1]["balance_after"] == oldest_balance


def make_history(account: str, journal: Journal) -> list[dict[str, Any]]:
    """A grant and 11 debits, journaled; returns the whole history, read in one page."""
    grant(account, 1000, "seed")
    for amount in DEBITS:
        debit(account, amount, f"job-{amount}", operation="render" if amount % 2 else "export")
    journal.pump()
    whole = page(account, 200)
    items = whole["items"]
    assert whole["next_cursor"] is None
    assert [i["type"] for i in items] == ["consumption"] * 11 + ["purchase"]
    assert [-i["amount"] for i in items[:-1]] == DEBITS[::-1]
    assert_newest_first_without_gaps(items, 1000)
    assert items[0]["balance_after"] == 1000 - sum(DEBITS)
    return items


@pytest.fixture(scope="module")
def _paged(_aws: None) -> tuple[str, list[dict[str, Any]]]:
    name = f"{TABLE}-paged"
    with pytest.MonkeyPatch.context() as env:
        use_table(name, env)
        create_table(name)
        return name, make_history(ACCOUNT, Journal(name))


@pytest.fixture
def history(
    _paged: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """The paged account's whole history (a grant and 11 debits), on the module's read-only table."""
    use_table(_paged[0], monkeypatch)
    return _paged[1]


@pytest.mark.parametrize("limit", [1, 2, 5, 11, 12, 13, 200])
def test_pages_walk_the_whole_history_newest_first(history: list[dict[str, Any]], limit: int) -> None:
    pages = all_pages(ACCOUNT, limit)
    assert [i for p in pages for i in p] == history
    assert all(len(p) == limit for p in pages[: len(history) // limit])
    assert len(pages) <= len(history) // limit + 1


def test_paging_is_stable_while_new_entries_arrive(journal: Journal) -> None:
    history = make_history(ACCOUNT, journal)
    first = page(ACCOUNT, 5)
    assert first["items"] == history[:5]
    debit(ACCOUNT, 100, "meanwhile-1")
    debit(ACCOUNT, 200, "meanwhile-2")
    journal.pump()
    rest = [i for p in all_pages(ACCOUNT, 5, cursor=first["next_cursor"]) for i in p]
    assert rest == history[5:]
    fresh = [i for p in all_pages(ACCOUNT, 5) for i in p]
    assert [-i["amount"] for i in fresh[:2]] == [200, 100]
    assert fresh[2:] == history


@pytest.mark.parametrize(
    ("type", "count"), [("consumption", 11), ("purchase", 1), ("capture", 0), ("grant", 0)]
)
@pytest.mark.parametrize("limit", [1, 3, 200])
def test_type_filter_across_pages(history: list[dict[str, Any]], type: str, count: int, limit: int) -> None:
    items = [i for p in all_pages(ACCOUNT, limit, type=type) for i in p]
    assert items == [i for i in history if i["type"] == type]
    assert len(items) == count


def test_cursor_of_one_account_does_not_reach_another(history: list[dict[str, Any]]) -> None:
    cursor = page(ACCOUNT, 3)["next_cursor"]
    other = "globex"
    status, body = read(
        other, "transactions", "/accounts/{account_id}/transactions", {"limit": "50", "cursor": cursor}
    )
    assert status == 200
    assert (body["items"], body["next_cursor"]) == ([], None)


# Usage.


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spend_over_several_days(account: str) -> None:
    """Consumption on 2026-03-02, 03-04 and 03-06, with more just outside 03-01..03-06."""
    grant(account, 10_000, "seed")
    ledger.debit(account, 99, "render", "before", now=at("2026-02-28T23:59:59"))
    ledger.debit(account, 10, "render", "d1-a", now=at("2026-03-02T00:00:00"))
    ledger.debit(account, 5, "render", "d1-b", now=at("2026-03-02T12:00:00"))
    ledger.debit(account, 3, "export", "d1-c", now=at("2026-03-02T23:59:59"))
    ledger.debit(account, 5, "render", "d1-b", now=at("2026-03-02T12:00:00"))  # a retry: replayed
    ledger.debit(account, 7, "render", "d3-a", now=at("2026-03-04T08:00:00"))
    hold, _ = ledger.place_hold(account, 50, "d3-hold", operation="transcode", now=at("2026-03-04T09:00:00"))
    ledger.capture_hold(account, hold.hold_id, 40, now=at("2026-03-04T09:05:00"))
    released, _ = ledger.place_hold(account, 30, "d3-released", now=at("2026-03-04T10:00:00"))
    ledger.release_hold(account, released.hold_id, now=at("2026-03-04T10:01:00"))
    with pytest.raises(ledger.InsufficientCredits):
        ledger.debit(account, 1_000_000, "render", "refused", now=at("2026-03-05T10:00:00"))
    ledger.debit(account, 20, "export", "d5-a", now=at("2026-03-06T23:59:59"))
    ledger.debit(account, 77, "render", "after", now=at("2026-03-07T00:00:00"))


EXPECTED = {
    "from": "2026-03-01",
    "to": "2026-03-06",
    "total": 85,
    "by_operation": {"render": 22, "export": 23, "transcode": 40},
    "by_day": [
        {"date": "2026-03-02", "total": 18, "by_operation": {"render": 15, "export": 3}},
        {"date": "2026-03-04", "total": 47, "by_operation": {"render": 7, "transcode": 40}},
        {"date": "2026-03-06", "total": 20, "by_operation": {"export": 20}},
    ],
}


def test_usage_by_day_and_operation(journal: Journal) -> None:
    spend_over_several_days(ACCOUNT)
    assert usage(ACCOUNT, "2026-03-01", "2026-03-06")["total"] == 0  # nothing until the journal ran
    journal.pump()
    assert usage(ACCOUNT, "2026-03-01", "2026-03-06") == EXPECTED
    everything = usage(ACCOUNT, "2026-01-01", "2026-12-31")
    assert everything["total"] == 85 + 99 + 77
    assert [d["date"] for d in everything["by_day"]] == [
        "2026-02-28",
        "2026-03-02",
        "2026-03-04",
        "2026-03-06",
        "2026-03-07",
    ]
    assert sum(d["total"] for d in everything["by_day"]) == everything["total"]
    assert usage(ACCOUNT, "2026-03-03", "2026-03-03")["by_day"] == []
    assert usage(ACCOUNT, "2026-03-04", "2026-03-04")["by_day"] == [EXPECTED["by_day"][1]]
    assert usage("globex", "2026-03-01", "2026-03-06")["total"] == 0


def test_redelivered_batch_does_not_double_usage_or_history(journal: Journal) -> None:
    spend_over_several_days(ACCOUNT)
    records = journal.pump()  # the first delivery
    assert len(records) > 10
    once, history_once = scan(), all_pages(ACCOUNT, 200)
    assert usage(ACCOUNT, "2026-03-01", "2026-03-06") == EXPECTED

    journal.deliver(records)  # the same batch again
    assert usage(ACCOUNT, "2026-03-01", "2026-03-06") == EXPECTED
    assert all_pages(ACCOUNT, 200) == history_once
    assert scan() == once


def test_overlapping_redeliveries_are_applied_once(journal: Journal) -> None:
    spend_over_several_days(ACCOUNT)
    records = journal.records()
    half = len(records) // 2
    journal.deliver(records[:half])
    journal.deliver(records[: half + 3])
    journal.deliver(records)
    journal.deliver(records[half:])
    journal.pump()
    assert usage(ACCOUNT, "2026-03-01", "2026-03-06") == EXPECTED
    items = all_pages(ACCOUNT, 200)[0]
    assert_newest_first_without_gaps(items, 10_000)
    assert [i["type"] for i in items] == [
        *["consumption"] * 2,
        "release",
        "hold",
        "capture",
        "hold",
        *["consumption"] * 5,
        "purchase",
    ]

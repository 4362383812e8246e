"""The history's export (use case and route) and the balance at a moment, on histories the journal wrote from
the table's stream (and, for a long one, entries written directly as the journal lays them out)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import ledger
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from ledger.domain.changes import Entry, iso
from ledger.store import table as ledger_table
from ledger.usecases import export

ACCOUNT = "acme"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROUTE = "/accounts/{account_id}/transactions/export"
TRICKY = {"note": 'a "quoted", comma\nand a new line', "ünï": "cödé ✓"}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def every_entry(account: str = ACCOUNT) -> list[Entry]:
    """The whole history, oldest first, through the history route's library call."""
    items, cursor = [], None
    while True:
        page = ledger.history(account, limit=200, cursor=cursor)
        items += page.items
        if not (cursor := page.next_cursor):
            return items[::-1]


@pytest.fixture
def history(journal: StreamPump) -> list[Entry]:
    """A grant expiring at +10 min, debits at +1..+5 min (one with awkward metadata), a hold and its capture,
    a grant at +20 min, then the expiry written late: by a sweep for +15 min that runs after the +20 grant."""
    ledger.grant(ACCOUNT, 100, "promotional", "welcome", expires_at=minutes(10), now=T0)
    for n in range(1, 6):
        ledger.debit(ACCOUNT, n, "render", f"job-{n}", metadata=TRICKY if n == 3 else None, now=minutes(n))
    hold, _ = ledger.place_hold(ACCOUNT, 7, "hold-1", now=minutes(6))
    ledger.capture_hold(ACCOUNT, hold.hold_id, 4, now=minutes(7))
    ledger.grant(ACCOUNT, 500, "purchase", "bought", now=minutes(20))
    ledger.settle_due(ACCOUNT, now=minutes(15))
    journal.pump()
    entries = every_entry()
    assert [e.type for e in entries][-2:] == ["purchase", "expiry"]
    assert entries[-1].created_at == iso(minutes(15))  # after the +20 grant in seq, before it in time
    return entries


def test_exports_every_entry_in_seq_order(history: list[Entry]) -> None:
    exported = list(ledger.export_entries(ACCOUNT, page_size=3))
    assert exported == history
    assert [e.seq for e in exported] == list(range(1, len(history) + 1))


@pytest.mark.parametrize(
    ("start", "end", "types"),
    [
        (minutes(12), minutes(18), ["expiry"]),  # the late expiry alone
        (minutes(18), minutes(25), ["purchase"]),
        (minutes(12), None, ["purchase", "expiry"]),
        (None, minutes(1), ["grant"]),
        (minutes(1), minutes(6), ["consumption"] * 5),
        (minutes(3), minutes(3.001), ["consumption"]),  # from inclusive
        (minutes(2), minutes(3), ["consumption"]),  # to exclusive
        (minutes(30), None, []),
    ],
)
def test_a_window_holds_exactly_the_entries_whose_time_falls_in_it(
    history: list[Entry], start: datetime | None, end: datetime | None, types: list[str]
) -> None:
    expected = [
        e
        for e in history
        if (start is None or export.moment(e) >= start) and (end is None or export.moment(e) < end)
    ]
    exported = list(ledger.export_entries(ACCOUNT, start, end, page_size=2))
    assert exported == expected
    assert [e.type for e in exported] == types


def test_csv_and_jsonl_parse_back_to_exactly_the_history(history: list[Entry]) -> None:
    text = "".join(export.lines(ledger.export_entries(ACCOUNT), "csv"))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == export.COLUMNS
    assert rows == [_as_csv(e) for e in history]
    quoted = next(r for r in rows if r["metadata"])
    assert json.loads(quoted["metadata"]) == TRICKY

    lines = "".join(export.lines(ledger.export_entries(ACCOUNT), "jsonl")).splitlines()
    assert [json.loads(line) for line in lines] == [export.row(e) for e in history]


def _as_csv(entry: Entry) -> dict[str, str]:
    return {
        k: ""
        if v is None
        else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        if k == "metadata"
        else str(v)
        for k, v in export.row(entry).items()
    }


# the route --------------------------------------------------------------------------------------------------


def call(
    query: dict[str, str], claims: dict[str, str] | None = None, account: str = ACCOUNT
) -> dict[str, Any]:
    event = http_event("GET", ROUTE, {"account_id": account}, query=query, claims=claims or owner(account))
    return dict(invoke("export", event))


def test_the_route_pages_through_every_entry_once(
    history: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "MAX_PAGE_ENTRIES", 3)
    for format in ("csv", "jsonl"):
        seen: list[dict[str, Any]] = []
        query: dict[str, str] = {"format": format}
        for _ in range(20):
            response = call(query)
            assert response["statusCode"] == 200, response
            headers = response["headers"]
            assert headers["Content-Type"] == export.CONTENT_TYPES[format]
            assert headers["Content-Disposition"] == f'attachment; filename="acme-transactions.{format}"'
            if format == "csv":
                seen += list(csv.DictReader(io.StringIO(response["body"], newline="")))
            else:
                seen += [json.loads(line) for line in response["body"].splitlines()]
            if "X-Next-Cursor" not in headers:
                break
            query = {"format": format, "cursor": headers["X-Next-Cursor"]}
        assert [int(r["seq"]) for r in seen] == [e.seq for e in history]


def test_a_page_stops_at_its_byte_budget(history: list[Entry], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_PAGE_BYTES", 400)  # a header and two or three rows
    pages, cursor = [], None
    for _ in range(len(history) + 1):
        page = ledger.export_page(ACCOUNT, "csv", cursor=cursor)
        pages.append(list(csv.DictReader(io.StringIO(page.body, newline=""))))
        if not (cursor := page.next_cursor):
            break
    assert len(pages) > 2 and all(len(p) < len(history) for p in pages)
    assert [int(r["seq"]) for p in pages for r in p] == [e.seq for e in history]


def test_the_cursor_keeps_its_window(history: list[Entry], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_PAGE_ENTRIES", 2)
    window = {"format": "jsonl", "from": "2026-11-02T09:01:00Z", "to": "2026-11-02T09:06:00Z"}
    first = call(window)
    cursor = first["headers"]["X-Next-Cursor"]
    again = call({"format": "jsonl", "cursor": cursor})  # the window comes with the cursor
    same = call({**window, "cursor": cursor})
    assert again["body"] == same["body"] and again["statusCode"] == 200
    other = call({"format": "jsonl", "from": "2026-11-02T09:02:00Z", "cursor": cursor})
    assert (other["statusCode"], json.loads(other["body"])["error"]) == (422, "invalid_request")


@pytest.mark.parametrize(
    "query",
    [
        {"format": "xml"},
        {"from": "yesterday"},
        {"from": "2026-11-02T09:00:00"},  # no time zone
        {"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T10:00:00Z"},
        {"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T09:00:00Z"},
        {"cursor": "not-a-cursor"},
    ],
)
def test_bad_queries_are_422_in_the_ledgers_shape(journal: StreamPump, query: dict[str, str]) -> None:
    response = call(query)
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]) == (422, "invalid_request"), body
    assert body["message"]


@pytest.mark.parametrize("claims", [owner(ACCOUNT, role="member"), owner("globex")])
def test_a_caller_who_may_not_export_gets_403_whatever_the_query(
    journal: StreamPump, claims: dict[str, str]
) -> None:
    for query in ({}, {"format": "xml", "from": "nope", "cursor": "!"}):
        status, body = parse(call(query, claims))
        assert (status, body["error"]) == (403, "forbidden")


# balance at a moment ----------------------------------------------------------------------------------------


def balance_at(at: str) -> tuple[int, Any]:
    event = http_event(
        "GET",
        "/accounts/{account_id}/balance",
        {"account_id": ACCOUNT},
        query={"at": at},
        claims=owner(ACCOUNT),
    )
    return parse(invoke("balance", event))


def test_balance_at_a_moment_is_the_last_entry_at_or_before_it(history: list[Entry]) -> None:
    by_time = {e.created_at: e for e in history}
    between = balance_at("2026-11-02T09:03:30Z")[1]
    third = by_time[iso(minutes(3))]
    assert between == {
        "at": "2026-11-02T09:03:30.000Z",
        "seq": third.seq,
        "as_of": third.created_at,
        "balance": third.balance_after,
        "held": 0,
        "available": third.balance_after,
    }
    exactly = balance_at(iso(minutes(6)))[1]  # the hold's own moment counts
    assert (exactly["held"], exactly["available"]) == (7, exactly["balance"] - 7)
    before = balance_at("2026-11-02T08:59:59Z")[1]
    assert (before["seq"], before["as_of"], before["balance"], before["held"], before["available"]) == (
        None,
        None,
        0,
        0,
        0,
    )
    # the expiry written late (seq after the +20 grant) is the last entry at or before +16 minutes
    late = balance_at(iso(minutes(16)))[1]
    assert (late["seq"], late["balance"]) == (history[-1].seq, history[-1].balance_after)
    assert balance_at(iso(minutes(19)))[1]["seq"] == history[-1].seq
    assert balance_at(iso(minutes(60)))[1]["seq"] == history[-1].seq


def test_balance_at_refuses_the_future_and_bad_times(journal: StreamPump) -> None:
    future = iso(datetime.now(UTC) + timedelta(minutes=5))
    for at in (future, "soon", "2026-11-02T09:00:00"):
        status, body = balance_at(at)
        assert (status, body["error"]) == (422, "invalid_request"), (at, body)
    status, card = parse(
        invoke(
            "balance",
            http_event(
                "GET", "/accounts/{account_id}/balance", {"account_id": ACCOUNT}, claims=owner(ACCOUNT)
            ),
        )
    )
    assert status == 200 and "lifetime_added" in card  # without at: the balance card, as before


# a long history -------------------------------------------------------------------------------------------------


class Queries:
    """Counts the ledger client's Query requests and the items they return."""

    def __init__(self) -> None:
        self.calls = self.items = 0

    def after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        self.items += len(parsed.get("Items", []))


@pytest.fixture
def long_history(aws: None) -> int:
    """2,000 entries written directly as the journal lays them out, one a minute from T0, one written late:
    seq 1,500 carries the moment 20 minutes before it (as a sweep running behind its schedule writes)."""
    db, pk, count = boto3.client("dynamodb"), ledger_table.account_pk(ACCOUNT), 2000
    items = []
    for seq in range(1, count + 1):
        at = minutes(seq - 20 if seq == 1500 else seq)
        entry = Entry(f"ent_{seq}", "consumption", -1, 10_000 - seq, 0, seq, iso(at), operation="render")
        items.append({"pk": pk, "sk": ledger_table.entry_sk(seq), **entry.to_map()})
    for first in range(0, count, 25):
        batch = [{"PutRequest": {"Item": ledger_table.to_item(i)}} for i in items[first : first + 25]]
        db.batch_write_item(RequestItems={ledger_table.table_name(): batch})
    return count


def test_a_recent_window_and_a_moment_read_a_few_entries_of_a_long_history(long_history: int) -> None:
    queries = Queries()
    ledger_table.client().meta.events.register("after-call.dynamodb.Query", queries.after)
    window = list(ledger.export_entries(ACCOUNT, minutes(1990), minutes(1995)))
    assert [e.seq for e in window] == [1990, 1991, 1992, 1993, 1994]
    # the binary search (about log2(2000) single entries), then the 30 minutes' margin and the window
    assert queries.calls <= 15 and queries.items <= 11 + 31 + 5 + 30, (queries.calls, queries.items)

    queries.calls = queries.items = 0
    figures = ledger.balance_at(ACCOUNT, minutes(1700.5), now=minutes(3000))
    assert (figures.entry and figures.entry.seq, figures.balance) == (1700, 10_000 - 1700)
    # the newest entry, the binary search, then one page of 100 past the moment (the margin's 30 entries are in it)
    assert queries.calls <= 15 and queries.items <= 12 + 100, (queries.calls, queries.items)

    late = list(ledger.export_entries(ACCOUNT, minutes(1480), minutes(1481)))
    assert [e.seq for e in late] == [1480, 1500]  # the late entry, in its place in seq order
    assert ledger.balance_at(ACCOUNT, minutes(1480.5), now=minutes(3000)).entry.seq == 1500  # type: ignore[union-attr]

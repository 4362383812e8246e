"""Exporting a long history: round trips, read units and peak Python memory against the history's length.

One account's entries are written directly as the journal lays them out (a consumption entry a minute, with
an operation and one metadata key), with BatchWriteItem into a single-threaded moto server; the history grows
from one size to the next. At each size the whole history is exported as CSV (``ledger.export_entries``, the
generator ``credits-admin export`` writes from, each line written to a sink that only counts it), with every
DynamoDB request captured (round trips, items, read units: eventually consistent Queries) and under
tracemalloc (the peak of Python's allocations during the export, the capture's own counting included; it keeps
no response body). At the largest size, a window of the last hour and the balance at a moment in the
middle are measured too: a binary search over seq, not a read of the history.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from bench.capture import Capture
from bench.costs import Side
from bench.fill import put, served_table
from ledger.domain.changes import Entry, iso
from ledger.store import table as ledger_table
from ledger.usecases.export import lines

ACCOUNT = "exported"


@dataclass
class ExportRow:
    what: str
    history: int  # entries in the account's history
    exported: int  # entries (or, for the balance, figures) the operation produced
    side: Side
    peak_kib: float  # tracemalloc's peak during the operation
    seconds: float  # wall time of the uncaptured run (moto server on this machine)
    bytes_out: int = 0


def _start() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def _grow(db: Any, start: int, end: int) -> None:
    """Entries ``start + 1`` .. ``end``, one a minute from 2026-01-01."""
    pk, first = ledger_table.account_pk(ACCOUNT), _start()
    items = (
        {
            "pk": pk,
            "sk": ledger_table.entry_sk(seq),
            **Entry(
                id=f"ent_{seq:024x}",
                type="consumption",
                amount=-3,
                balance_after=10_000_000 - 3 * seq,
                held_after=0,
                seq=seq,
                created_at=iso(first + timedelta(minutes=seq)),
                operation="render",
                metadata={"job": f"job-{seq:08d}"},
            ).to_map(),
        }
        for seq in range(start + 1, end + 1)
    )
    put(db, (ledger_table.to_item(i) for i in items))


class _Sink:
    def __init__(self) -> None:
        self.lines = self.bytes = 0

    def write(self, line: str) -> None:
        self.lines += 1
        self.bytes += len(line.encode())


class _LeanCapture(Capture):
    """The capture, keeping each request's figures but not its response body (an export's pages would
    otherwise stay in memory, and in the peak measured)."""

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **kw: Any
    ) -> None:
        super()._after(http_response, parsed, model, context, **kw)
        if self.calls:
            self.calls[-1].body = b""


def _measure(capture: Capture, what: str, history: int, run: Callable[[_Sink], int]) -> ExportRow:
    sink = _Sink()
    with capture.active():
        tracemalloc.start()
        began = time.perf_counter()
        produced = run(sink)
        seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return ExportRow(what, history, produced, Side.of(capture.take()), peak / 1024, seconds, sink.bytes)


def _export(start: datetime | None = None, end: datetime | None = None) -> Callable[[_Sink], int]:
    def run(sink: _Sink) -> int:
        count = 0
        for line in lines(ledger.export_entries(ACCOUNT, start, end), "csv"):
            sink.write(line)
            count += 1
        return count - 1  # the header

    return run


def measure(sizes: list[int], progress: Callable[[str], None] = lambda _: None) -> list[ExportRow]:
    rows: list[ExportRow] = []
    with served_table() as db:
        capture = _LeanCapture(ledger_table.client(), side=db)
        have = 0
        for size in sorted(sizes):
            progress(f"export of a history of {size:,} entries")
            _grow(db, have, size)
            have = size
            row = _measure(capture, "whole history (CSV)", size, _export())
            if row.exported != size:
                raise RuntimeError(f"the export of {size:,} entries gave {row.exported}")
            rows.append(row)
        last = _start() + timedelta(minutes=have)
        window = _measure(capture, "window: the last hour", have, _export(last - timedelta(minutes=59), None))
        if window.exported != 60:
            raise RuntimeError(f"the last hour's window gave {window.exported} entries, not 60")
        rows.append(window)
        middle = _start() + timedelta(minutes=have // 2, seconds=30)

        def at(sink: _Sink) -> int:
            figures = ledger.balance_at(ACCOUNT, middle, now=last)
            if not figures.entry or figures.entry.seq != have // 2:
                raise RuntimeError(f"the balance at the middle moment came from {figures.entry}")
            return 1

        rows.append(_measure(capture, "balance at a moment", have, at))
    return rows

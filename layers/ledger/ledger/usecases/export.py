"""An account's history for export: every entry (or those of a time window) in seq order, oldest first, read
a page at a time, so a history of any length exports in bounded memory; and its rows as CSV or JSON Lines.

A window is ``start`` (inclusive) to ``end`` (exclusive) on ``created_at``. It is found without reading the
history before it: a binary search over seq (``timeline.seq_before``) proves where the entries from ``start``
begin, and the read stops at the first entry ``LATE_ENTRY_MARGIN`` past ``end``, after which none can be in
the window (see timeline.py). The entries read in between are filtered by their own ``created_at``, so the
window holds exactly the entries whose time falls in it, in seq order, even one written late (an expiry
written by a sweep that ran behind its schedule).

The HTTP route cannot stream, and a Lambda response is at most 6 MB: ``export_page`` answers at most
``MAX_PAGE_ENTRIES`` entries and ``MAX_PAGE_BYTES`` of text, and a cursor to go on from.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ledger.domain.changes import Entry, check_moment, iso, parse_iso
from ledger.domain.errors import InvalidRequest
from ledger.store import entries
from ledger.usecases.timeline import LATE_ENTRY_MARGIN, PAGE_SIZE, moment, seq_before

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
COLUMNS = (
    "seq",
    "id",
    "created_at",
    "type",
    "amount",
    "balance_after",
    "held_after",
    "operation",
    "reference",
    "description",
    "hold_id",
    "grant_id",
    "metadata",
)
CONTENT_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
MAX_PAGE_ENTRIES = 1000
# a page's text, measured as it travels in the Lambda response (JSON-escaped, ASCII): at most ~25 KB more
# than this (one entry with the largest metadata), well under Lambda's 6 MB
MAX_PAGE_BYTES = 4 * 1024 * 1024
MAX_PAGE_READS = (
    5  # Queries of PAGE_SIZE entries one page reads at most (a window's margin is skipped in steps)
)


def _check_window(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} must carry a time zone (e.g. 2026-11-21T12:00:00Z)")
        if value is not None:
            check_moment(name, value)
    if start is not None and end is not None and end <= start:
        raise InvalidRequest("to must be after from")


def _first_seq(history: entries.Layout, start: datetime | None) -> int:
    return seq_before(history, start) if start is not None else 0


def _scan(
    history: entries.Layout, after: int, start: datetime | None, end: datetime | None, page_size: int
) -> Iterator[tuple[Entry, bool]]:
    """(entry, in the window) for the entries after seq ``after``, until none can be in the window."""
    for entry in entries.after(history, after, page_size):
        when = moment(entry)
        if end is not None and when >= end + LATE_ENTRY_MARGIN:
            return
        yield entry, (start is None or when >= start) and (end is None or when < end)


def export_entries(
    account_id: str, start: datetime | None = None, end: datetime | None = None, page_size: int = PAGE_SIZE
) -> Iterator[Entry]:
    """The account's entries whose ``created_at`` is in [start, end) (either open), in seq order, oldest first.
    A generator: the history is read ``page_size`` entries at a time, as it is consumed."""
    _check_window(start, end)
    history = entries.read_layout(account_id)
    for entry, inside in _scan(history, _first_seq(history, start), start, end, page_size):
        if inside:
            yield entry


# rows ---------------------------------------------------------------------------------------------------


def row(entry: Entry) -> dict[str, Any]:
    """The entry's exported fields, in ``COLUMNS`` order (absent ones None)."""
    return {name: getattr(entry, name) for name in COLUMNS}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(v) for v in values])
    return buffer.getvalue()


def csv_header() -> str:
    return _csv_line(COLUMNS)


def csv_row(entry: Entry) -> str:
    """One RFC 4180 record: commas, quotes and line breaks quoted; metadata as a JSON object; None empty."""
    return _csv_line(row(entry).values())


def jsonl_row(entry: Entry) -> str:
    return json.dumps(row(entry), ensure_ascii=False, separators=(",", ":")) + "\n"


def lines(entries: Iterable[Entry], format: Format) -> Iterator[str]:
    """The export's text, line by line: CSV with its header first, or JSON Lines."""
    if format not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}")
    if format == "csv":
        yield csv_header()
        for entry in entries:
            yield csv_row(entry)
    else:
        for entry in entries:
            yield jsonl_row(entry)


# pages --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportPage:
    body: str
    entries: int
    next_cursor: str | None  # None: the export is complete


def _cursor_out(after: int, start: datetime | None, end: datetime | None) -> str:
    data = {"after": after, "from": iso(start) if start else None, "to": iso(end) if end else None}
    text = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_in(cursor: str) -> tuple[int, datetime | None, datetime | None]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValueError(after)
        start, end = (parse_iso(data[k]) if data[k] is not None else None for k in ("from", "to"))
        _check_window(start, end)  # a cursor's window is held to the rules of one given as from and to
    except (ValueError, KeyError, TypeError, AttributeError, InvalidRequest) as error:
        raise InvalidRequest("cursor is not one this API returned") from error
    return after, start, end


def export_page(
    account_id: str,
    format: Format = "csv",
    start: datetime | None = None,
    end: datetime | None = None,
    cursor: str | None = None,
) -> ExportPage:
    """One page of the export: up to MAX_PAGE_ENTRIES entries (fewer when the text reaches MAX_PAGE_BYTES, or
    when MAX_PAGE_READS Queries found fewer in the window; possibly none), CSV with its header on every page.
    The cursor carries the window: with it, ``start`` and ``end`` may be left out, and must match if given."""
    if format not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}")
    _check_window(start, end)
    if cursor:
        after, cursor_start, cursor_end = _cursor_in(cursor)
        if (start is not None and start != cursor_start) or (end is not None and end != cursor_end):
            raise InvalidRequest("cursor belongs to another window: give the same from and to, or neither")
        start, end = cursor_start, cursor_end
    history = entries.read_layout(account_id)
    if not cursor:
        after = _first_seq(history, start)
    parts = [csv_header()] if format == "csv" else []
    size, count, last = _escaped_size(parts[0]) if parts else 0, 0, after
    make = csv_row if format == "csv" else jsonl_row
    for read, (entry, inside) in enumerate(_scan(history, after, start, end, PAGE_SIZE), start=1):
        if inside:
            text = make(entry)
            size += _escaped_size(text)
            parts.append(text)
            count += 1
        last = entry.seq or last
        full = count >= MAX_PAGE_ENTRIES or size >= MAX_PAGE_BYTES or read >= MAX_PAGE_READS * PAGE_SIZE
        if full:
            return ExportPage("".join(parts), count, _cursor_out(last, start, end))
    return ExportPage("".join(parts), count, None)


def _escaped_size(text: str) -> int:
    """The text's size inside a JSON string with every non-ASCII character escaped (its worst case)."""
    return len(json.dumps(text))

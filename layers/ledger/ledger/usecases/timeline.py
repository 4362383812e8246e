"""Where a moment falls in an account's history: a binary search over ``seq``, one single-entry Query per step.

Entries are keyed ``E#<10^15 - seq>``, so the entry with the highest seq at or below ``s`` is the first key at
or after ``E#<10^15 - s>``: one Query with ``Limit=1`` (half a read unit, eventually consistent) finds it,
whatever gaps the history has (an ``unrecorded`` entry stands for several seqs).

``created_at`` follows ``seq`` closely but not strictly. Every write takes its time when its request starts and
commits before its function times out (at most 30 s later); the expiry sweep writes all its settlements with
the time of its scheduled event, which may run late: EventBridge delivers the event within 10 minutes or drops
it (the schedule's ``RetryPolicy``), Lambda runs it within 10 minutes of receiving it or drops it
(``EventInvokeConfig``), and a run lasts at most its 300 s timeout. So an entry never carries a moment more than
``LATE_ENTRY_MARGIN`` (30 minutes, over the 25 those add up to) before an entry written ahead of it. The searches rely on that and only on that:

- an entry at least ``LATE_ENTRY_MARGIN`` before ``t`` proves every entry before it is before ``t``;
- an entry at least ``LATE_ENTRY_MARGIN`` after ``t`` proves every entry after it is after ``t``.

A sweep replayed by hand for a moment further back (``settle_due(now=...)`` with an old ``now``) writes
entries outside that rule; a window or a moment within the margin of them may then miss them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.domain.changes import Entry, parse_iso, utcnow
from ledger.domain.errors import InvalidRequest
from ledger.store import table

LATE_ENTRY_MARGIN = timedelta(minutes=30)
PAGE_SIZE = 1000  # entries per Query when reading the history in order
NEWEST = table.SEQ_SPAN - 1


def moment(entry: Entry) -> datetime:
    """The entry's ``created_at`` as an aware datetime (a time without a zone is UTC)."""
    at = parse_iso(entry.created_at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _query(**kwargs: Any) -> dict[str, Any]:
    return table.client().query(TableName=table.table_name(), **kwargs)  # type: ignore[return-value]


def entry_at_or_below(account_id: str, seq: int) -> Entry | None:
    """The entry with the highest seq ≤ ``seq`` (None: the history has none)."""
    response = _query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :s AND :e",
        ExpressionAttributeValues=table.to_item(
            {":pk": table.account_pk(account_id), ":s": table.entry_sk(seq), ":e": "E#~"}
        ),
        Limit=1,
    )
    items = response.get("Items", [])
    return Entry.from_map(table.from_item(items[0]) or {}) if items else None


def entries_after(account_id: str, after: int, page_size: int = PAGE_SIZE) -> Iterator[Entry]:
    """Every entry with seq > ``after``, oldest first, read ``page_size`` at a time (one page in memory)."""
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :s AND :e",
        # descending keys are ascending seqs: from the newest key down to the one just after ``after``
        "ExpressionAttributeValues": table.to_item(
            {
                ":pk": table.account_pk(account_id),
                ":s": table.entry_sk(NEWEST),
                ":e": table.entry_sk(after + 1),
            }
        ),
        "ScanIndexForward": False,
        "Limit": page_size,
    }
    while True:
        response = _query(**kwargs)
        items, next_key = response.get("Items", []), response.get("LastEvaluatedKey")
        del response
        for item in items:
            yield Entry.from_map(table.from_item(item) or {})
        del items  # one page in memory at a time: this one goes before the next is read
        if next_key is None:
            return
        kwargs["ExclusiveStartKey"] = next_key


def seq_before(account_id: str, start: datetime) -> int:
    """A seq such that every entry at or below it has ``created_at`` before ``start``, as high as the binary
    search finds (0 when none is proven): the entries from ``start`` on all come after it."""
    bar = start - LATE_ENTRY_MARGIN
    low, newest = 0, entry_at_or_below(account_id, NEWEST)
    if newest is None:
        return 0
    if moment(newest) < bar:
        return newest.seq or 0
    high = newest.seq or 0  # an entry not proven before ``start``
    while high - low > 1:
        middle = (low + high) // 2
        found = entry_at_or_below(account_id, middle)
        if found is None or moment(found) < bar:
            low = middle  # nothing at or below ``middle`` is at or after ``start``
        else:
            high = found.seq or 0
    return low


@dataclass(frozen=True, slots=True)
class BalanceAt:
    at: datetime
    entry: Entry | None  # the last entry at or before ``at`` (None: the history starts after it)

    @property
    def balance(self) -> int:
        return (self.entry.balance_after or 0) if self.entry else 0

    @property
    def held(self) -> int:
        return (self.entry.held_after or 0) if self.entry else 0

    @property
    def available(self) -> int:
        return self.balance - self.held


def balance_at(account_id: str, at: datetime, now: datetime | None = None) -> BalanceAt:
    """The balance and held as they were at ``at``: those after the entry with the highest seq whose
    ``created_at`` is at or before ``at``. A binary search over seq (about log2(seq) single-entry Queries),
    then a read forward through the entries within ``LATE_ENTRY_MARGIN`` after ``at``."""
    if at.tzinfo is None:
        raise InvalidRequest("at must carry a time zone (e.g. 2026-11-21T12:00:00Z)")
    if at > (now or utcnow()):
        raise InvalidRequest("at must not be in the future")
    newest = entry_at_or_below(account_id, NEWEST)
    if newest is None:
        return BalanceAt(at, None)
    if moment(newest) <= at:
        return BalanceAt(at, newest)
    low, high, best = (
        0,
        newest.seq or 0,
        None,
    )  # best: the highest entry at or below ``low`` (at or before at)
    while high - low > 1:
        middle = (low + high) // 2
        found = entry_at_or_below(account_id, middle)
        if found is None:
            low = middle
        elif moment(found) <= at:
            low, best = middle, found
        else:
            high = found.seq or 0
    # entries after ``high`` may still be at or before ``at`` (written late); past at + margin none can be
    for entry in entries_after(account_id, high - 1, page_size=100):
        when = moment(entry)
        if when <= at:
            best = entry
        elif when > at + LATE_ENTRY_MARGIN:
            break
    return BalanceAt(at, best)

"""Where a moment falls in an account's history: a binary search over ``seq``, one single-entry Query per step.

Entries are keyed ``E#<10^15 - seq>``, so the entry with the highest seq at or below ``s`` is the first key at
or after ``E#<10^15 - s>``: one Query with ``Limit=1`` (half a read unit, eventually consistent) finds it,
whatever gaps the history has (an ``unrecorded`` entry stands for several seqs); in a hot account's blocks
(store/entries.py), the Query of the block ``s`` falls in, and of the one before when ``s`` is its first.

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

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.domain.changes import Entry, check_moment, parse_iso, utcnow
from ledger.domain.errors import InvalidRequest
from ledger.store import entries

LATE_ENTRY_MARGIN = timedelta(minutes=30)
PAGE_SIZE = 1000  # entries per Query when reading the history in order
NEWEST = entries.NEWEST


def moment(entry: Entry) -> datetime:
    """The entry's ``created_at`` as an aware datetime (a time without a zone is UTC)."""
    at = parse_iso(entry.created_at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def seq_before(history: entries.Layout, start: datetime) -> int:
    """A seq such that every entry at or below it has ``created_at`` before ``start``, as high as the binary
    search finds (0 when none is proven): the entries from ``start`` on all come after it."""
    bar = start - LATE_ENTRY_MARGIN
    low, newest = 0, entries.at_or_below(history, NEWEST)
    if newest is None:
        return 0
    if moment(newest) < bar:
        return newest.seq or 0
    high = newest.seq or 0  # an entry not proven before ``start``
    while high - low > 1:
        middle = (low + high) // 2
        found = entries.at_or_below(history, middle)
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
    check_moment("at", at)
    if at > (now or utcnow()):
        raise InvalidRequest("at must not be in the future")
    history = entries.read_layout(account_id)
    newest = entries.at_or_below(history, NEWEST)
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
        found = entries.at_or_below(history, middle)
        if found is None:
            low = middle
        elif moment(found) <= at:
            low, best = middle, found
        else:
            high = found.seq or 0
    # entries after ``high`` may still be at or before ``at`` (written late); past at + margin none can be
    for entry in entries.after(history, high - 1, page_size=100):
        when = moment(entry)
        if when <= at:
            best = entry
        elif when > at + LATE_ENTRY_MARGIN:
            break
    return BalanceAt(at, best)

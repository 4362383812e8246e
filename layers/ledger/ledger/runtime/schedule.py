"""The moment a scheduled (EventBridge) invocation was meant for: its event's ``time``.

Any moment a ledger can have is taken, past or ahead of the clock, so a run can be replayed (and the sample
events of ``events/`` run at their moments). Only EventBridge's rules invoke these functions in a stack; who
may invoke them by hand (IAM) is trusted to send a real time. A time before ``EARLIEST`` or after ``LATEST``
is refused: no ledger has one, and the windows a run computes from it must stay dates Python can hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class NotScheduled(ValueError):
    """The event has no ``time`` in ISO 8601 with a zone, or one no ledger has."""


def scheduled_time(event: dict[str, Any]) -> datetime:
    value = event.get("time") if isinstance(event, dict) else None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise NotScheduled(f"not a scheduled event: time is {value!r}") from None
    if moment.tzinfo is None:
        raise NotScheduled(f"not a scheduled event: time {value!r} has no zone")
    try:
        within = EARLIEST <= moment <= LATEST
    except OverflowError:  # a zone that takes it outside the years Python holds
        within = False
    if not within:
        raise NotScheduled(f"not a scheduled event: time {value!r} is not from 2000 to 9000")
    return moment

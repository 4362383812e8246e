"""The moment a scheduled (EventBridge) invocation was meant for: its event's ``time``."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class NotScheduled(ValueError):
    """The event has no ``time`` in ISO 8601 with a zone: not an EventBridge scheduled event."""


def scheduled_time(event: dict[str, Any]) -> datetime:
    value = event.get("time") if isinstance(event, dict) else None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise NotScheduled(f"not a scheduled event: time is {value!r}") from None
    if moment.tzinfo is None:
        raise NotScheduled(f"not a scheduled event: time {value!r} has no zone")
    return moment

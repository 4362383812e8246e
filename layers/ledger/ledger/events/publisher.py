"""Publishing notifications on the EventBridge bus named by ``EVENT_BUS_NAME``.

Source ``prepaid-credits``, DetailType the notification's name, Detail its JSON (with its deterministic id).
PutEvents answers per entry; an entry that failed makes ``publish`` raise, so the stream record that carried
it is reported failed and delivered again. Entries that did go out are then sent again with the same ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import batched
from typing import TYPE_CHECKING, Any

from ledger import settings
from ledger.runtime import aws

if TYPE_CHECKING:
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

    from ledger.events.models import Notification

SOURCE = "prepaid-credits"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


@dataclass(frozen=True, slots=True)
class Outgoing:
    detail_type: str
    detail: dict[str, Any]
    time: datetime

    @classmethod
    def of(cls, notification: Notification, time: datetime) -> Outgoing:
        return cls(notification.name, notification.detail(), time)


class PublishFailed(Exception):
    """EventBridge refused some entries; the record that carried them must be delivered again."""


@cache
def client() -> EventBridgeClient:
    events: EventBridgeClient = aws.client("events")
    return events


def reset_client() -> None:
    """Forget the cached client (tests switch endpoints)."""
    client.cache_clear()


def _entry(outgoing: Outgoing) -> PutEventsRequestEntryTypeDef:
    return {
        "Source": SOURCE,
        "DetailType": outgoing.detail_type,
        "Detail": json.dumps(outgoing.detail, separators=(",", ":")),
        "Time": outgoing.time,
        "EventBusName": settings.event_bus_name(),
    }


def publish(notifications: list[Outgoing]) -> None:
    for chunk in batched(notifications, MAX_ENTRIES, strict=False):
        response = client().put_events(Entries=[_entry(n) for n in chunk])
        failures = [
            f"{n.detail_type} {n.detail.get('id')}: {r.get('ErrorCode')} {r.get('ErrorMessage')}"
            for n, r in zip(chunk, response["Entries"], strict=True)
            if r.get("ErrorCode")
        ]
        if failures:
            raise PublishFailed("; ".join(failures))

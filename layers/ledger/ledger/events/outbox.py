"""The outbox: a notification written in the same transaction as the state change it announces.

An item ``N#<notification id>`` under the account's partition holds ``detail_type`` (the notification's
name) and ``detail`` (already validated by its model). The notifications function publishes every INSERT of
such an item exactly as written, so the notification is sent if and only if the change committed. The id is
deterministic, so writing the same notification twice writes the same item; only its first write (the
INSERT) is published. ``ttl`` lets DynamoDB delete it once the stream has carried it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledger.domain.changes import epoch, iso
from ledger.events.models import NOTIFICATIONS, Notification
from ledger.store import schema
from ledger.store.schema import outbox_sk
from ledger.store.writes import put

OUTBOX_TTL = timedelta(days=7)


def notification_put(account_id: str, name: str, detail: Notification, now: datetime) -> dict[str, Any]:
    """A TransactWriteItems ``Put`` of the outbox item announcing ``detail``."""
    if NOTIFICATIONS.get(name) is not type(detail):
        raise ValueError(f"{type(detail).__name__} is not the detail of a {name!r} notification")
    if detail.account_id != account_id:
        raise ValueError(f"the detail is about account {detail.account_id!r}, not {account_id!r}")
    item = {
        "pk": schema.account_pk(account_id),
        "sk": outbox_sk(detail.id),
        "detail_type": name,
        "detail": detail.detail(),
        "created_at": iso(now),
        "ttl": epoch(now + OUTBOX_TTL),
    }
    return put(item, only_if_new=False)

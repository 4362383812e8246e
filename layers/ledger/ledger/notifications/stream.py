"""What one record of the table's stream has to announce.

- An account item (``sk = "A"``) written: the notifications its old and new images imply (``derive``).
- An outbox item (``sk = "N#<id>"``) inserted: its notification, exactly as written.

Anything else announces nothing. An account write that takes available below the auto top-up threshold also
asks for a top-up (``top_up_request``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.domain.changes import parse_iso
from ledger.events.publisher import Outgoing
from ledger.events.top_up_queue import TopUpRequest
from ledger.notifications.derive import account_notifications
from ledger.store import schema, table
from ledger.store.schema import OUTBOX_PREFIX, account_id_of
from ledger.usecases.top_up_requests import crossing


def outgoing(record: dict[str, Any]) -> list[Outgoing]:
    """The notifications of one stream record (in Lambda's event shape)."""
    stream = record["dynamodb"]
    keys = table.from_item(stream["Keys"]) or {}
    new = table.from_item(stream.get("NewImage"))
    if new is None:
        return []
    sk = keys["sk"]
    if sk == schema.ACCOUNT_SK:
        written = datetime.fromtimestamp(float(stream["ApproximateCreationDateTime"]), UTC)
        old = table.from_item(stream.get("OldImage"))
        found = account_notifications(account_id_of(keys["pk"]), old, new)
        return [Outgoing.of(n, written) for n in found]
    if sk.startswith(OUTBOX_PREFIX) and record.get("eventName") == "INSERT":
        return [Outgoing(new["detail_type"], new["detail"], parse_iso(new["created_at"]))]
    return []


def top_up_request(record: dict[str, Any]) -> TopUpRequest | None:
    """The auto top-up this stream record asks for, if its account write crossed the threshold."""
    stream = record["dynamodb"]
    keys = table.from_item(stream["Keys"]) or {}
    new = table.from_item(stream.get("NewImage"))
    if new is None or keys.get("sk") != schema.ACCOUNT_SK:
        return None
    return crossing(account_id_of(keys["pk"]), table.from_item(stream.get("OldImage")), new)

"""Open holds in expiry order (``HX#<expiry>#<hold_id>``, one small item per open hold, deleted when the hold
is captured, released or lapses), so a settlement reads only the holds that lapsed and the next one to."""

from __future__ import annotations

from typing import Any

from ledger.domain.account import OpenHold
from ledger.store import schema, table
from ledger.store.schema import hold_expiry_key


def hold_expiry_item(account_id: str, hold_id: str, amount: int, expires_at: int) -> dict[str, Any]:
    return {**hold_expiry_key(account_id, hold_id, expires_at), "hold_id": hold_id, "amount": amount}


def _query(account_id: str, condition: str, low: str, high: str, limit: int) -> list[OpenHold]:
    response = table.client().query(
        TableName=table.table_name(),
        KeyConditionExpression=f"pk = :pk AND {condition}",
        ExpressionAttributeValues=table.to_item(
            {":pk": schema.account_pk(account_id), ":lo": low, ":hi": high}
        ),
        ConsistentRead=True,
        Limit=limit,
    )
    holds = []
    for raw in response.get("Items", []):
        item = table.from_item(raw) or {}
        expires_at = int(item["sk"].split("#")[1])
        holds.append(OpenHold(id=item["hold_id"], amount=item["amount"], expires_at=expires_at))
    return holds


def lapsed_and_next(account_id: str, at: int, limit: int) -> list[OpenHold]:
    """Up to ``limit`` open holds that lapsed by ``at``, oldest first, then the next open hold (if any): the
    one that tells the next moment a hold falls due (when more than ``limit`` lapsed, that one has too)."""
    prefix = schema.HOLD_EXPIRY_PREFIX
    bound = f"{prefix}{at:011d}#~"
    lapsed = _query(account_id, "sk BETWEEN :lo AND :hi", prefix, bound, limit + 1)
    if len(lapsed) > limit:
        return lapsed
    return lapsed + _query(account_id, "sk BETWEEN :lo AND :hi", bound, prefix + "~", 1)


def open_holds(account_id: str) -> list[OpenHold]:
    """Every open hold of the account, soonest to lapse first (an operator's or a test's read)."""
    holds: list[OpenHold] = []
    prefix = schema.HOLD_EXPIRY_PREFIX
    while True:
        low = f"{prefix}{holds[-1].expires_at:011d}#{holds[-1].id}" if holds else prefix
        page = _query(account_id, "sk BETWEEN :lo AND :hi", low, prefix + "~", 1000)
        page = [h for h in page if not holds or (h.expires_at, h.id) > (holds[-1].expires_at, holds[-1].id)]
        if not page:
            return holds
        holds += page

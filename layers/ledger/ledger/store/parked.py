"""Parked: what a reader of the stream, or the webhook, could not use, kept for an operator.

One item per thing parked, in a partition of its own (``pk = PARKED``), never in the stream functions'
filters nor in an index: ``sk = <where>#<id>`` (``journal#<stream sequence number>``, ``notifications#…``,
``webhook#<Stripe event id>``; an id that cannot be part of a key stands as its digest), with the error,
when, the account if known, and the original as JSON (cut to ``MAX_ORIGINAL`` characters: an item stays
under DynamoDB's 400 KB). Writing one is idempotent: the same thing parked twice is one item, its first error
kept. Query ``pk = PARKED`` to see them; ``journal.record`` can replay a parked stream record's images once
the cause is fixed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ledger.domain.changes import iso, utcnow
from ledger.store import table
from ledger.store.schema import PARKED_PK, parked_sk

MAX_ORIGINAL = 300_000
MAX_ERROR = 2_000
# DynamoDB refusing what it was given: a retry sends the same and is refused the same
REFUSED_CONTENT = {"ValidationException", "SerializationException"}


def is_transient(error: BaseException) -> bool:
    """An error a retry can help with: AWS unreachable or asking to slow down, not refusing the content."""
    if isinstance(error, ParamValidationError):
        return False  # the request was refused before it was sent: its content, every time
    if isinstance(error, BotoCoreError):
        return True
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") not in REFUSED_CONTENT
    return False


def park(
    where: str,
    ident: str,
    original: Any,
    error: BaseException,
    account_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Keep ``original`` with why it failed; returns the parked item's id (its sort key)."""
    sk = parked_sk(where, ident)
    text = json.dumps(original, default=str, ensure_ascii=True)
    item: dict[str, Any] = {
        "pk": PARKED_PK,
        "sk": sk,
        "where": where,
        "error": f"{type(error).__name__}: {error}"[:MAX_ERROR].encode("utf-8", "replace").decode("utf-8"),
        "parked_at": iso(now or utcnow()),
        "original": text[:MAX_ORIGINAL],
        "truncated": len(text) > MAX_ORIGINAL,
    }
    if account_id:
        item["account_id"] = account_id
    try:
        table.client().put_item(
            TableName=table.table_name(),
            Item=table.to_item(item),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as refused:
        if refused.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    return sk


def parked(where: str | None = None) -> list[dict[str, Any]]:
    """Everything parked (or only from ``where``), oldest id first; for operators and tests."""
    values: dict[str, Any] = {":pk": PARKED_PK}
    condition = "pk = :pk"
    if where:
        condition += " AND begins_with(sk, :where)"
        values[":where"] = f"{where}#"
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = table.client().query(
            TableName=table.table_name(),
            KeyConditionExpression=condition,
            ExpressionAttributeValues=table.to_item(values),
            **({"ExclusiveStartKey": start} if start else {}),  # type: ignore[arg-type]
        )
        items.extend(table.from_item(i) or {} for i in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items

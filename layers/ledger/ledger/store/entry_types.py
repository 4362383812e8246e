"""History filtered by entry type, at the cost of the page alone.

Every entry the journal writes carries ``type_pk = ACCOUNT#<account_id>#<type>``, the partition key of the
GSI ``by_type`` (sort key ``sk``, the entry's own ``E#<inverted seq>``; all attributes projected). A page of
one type is then one Query of that index's partition, newest first, ``Limit`` entries: it reads only entries
of that type, however many of other types lie between them (a ``FilterExpression`` on the base table would
read, and charge for, every entry skipped, and could answer empty pages with a cursor)."""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.domain.changes import Entry
from ledger.domain.errors import InvalidRequest
from ledger.store import table

INDEX = "by_type"
TYPE_PK = "type_pk"


def type_pk(account_id: str, entry_type: str) -> str:
    return f"{table.account_pk(account_id)}#{entry_type}"


def _cursor_out(key: dict[str, Any] | None, entry_type: str) -> str | None:
    if not key:
        return None
    data = {"sk": key["sk"]["S"], "type": entry_type}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _cursor_in(cursor: str, account_id: str, entry_type: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sk = data["sk"]
        if not isinstance(sk, str) or not sk.startswith("E#") or data.get("type") != entry_type:
            raise ValueError(sk)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidRequest("cursor is not one this API returned for this type") from error
    return table.to_item(
        {"pk": table.account_pk(account_id), "sk": sk, TYPE_PK: type_pk(account_id, entry_type)}
    )


def typed_page(
    account_id: str, entry_type: str, limit: int, cursor: str | None
) -> tuple[list[Entry], str | None]:
    """Up to ``limit`` entries of ``entry_type``, newest first, and the cursor of the next page (None: last)."""
    kwargs: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": INDEX,
        "KeyConditionExpression": "#t = :t",
        "ExpressionAttributeNames": {"#t": TYPE_PK},
        "ExpressionAttributeValues": table.to_item({":t": type_pk(account_id, entry_type)}),
        "ScanIndexForward": True,  # E#<10^15 - seq>: ascending keys are newest first
        "Limit": limit,
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = _cursor_in(cursor, account_id, entry_type)
    response = table.client().query(**kwargs)
    items = [Entry.from_map(table.from_item(i) or {}) for i in response.get("Items", [])]
    return items, _cursor_out(response.get("LastEvaluatedKey"), entry_type)


def entries_of_type(account_id: str, entry_type: str) -> list[Entry]:
    """Every entry of one type, newest first (an operator's read: it grows with the entries of that type)."""
    entries: list[Entry] = []
    cursor: str | None = None
    while True:
        page, cursor = typed_page(account_id, entry_type, 1000, cursor)
        entries += page
        if cursor is None:
            return entries

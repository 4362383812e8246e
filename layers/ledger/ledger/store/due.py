"""The sparse ``due`` index (schema.py): accounts whose grant or hold expiry has come (``sk = "A"``) and
reminders whose moment has come (``R#...``), by that moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ledger.domain.changes import epoch
from ledger.store import table
from ledger.store.schema import DUE_INDEX, DUE_PK, account_id_of


def due_keys(now: datetime, page_size: int) -> Iterator[tuple[str, str]]:
    """(account id, sort key) of every item due by ``now``, oldest first, one page at a time."""
    pages = table.query_pages(
        IndexName=DUE_INDEX,
        KeyConditionExpression="due_pk = :pk AND #due <= :now",
        ExpressionAttributeNames={"#due": "due"},
        ExpressionAttributeValues=table.to_item({":pk": DUE_PK, ":now": epoch(now)}),
        Limit=page_size,
    )
    for page in pages:
        for key in page:
            yield account_id_of(key["pk"]), key["sk"]

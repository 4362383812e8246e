"""An account's history: where its entries are kept, and every read of them.

The journal (journal.py) writes one entry item per seq, keyed ``sk = E#<10^15 - seq>`` so that key order is
newest first. Where the item lives:

- An account never made hot keeps its entries in its own partition (``pk = ACCOUNT#<id>``), beside its account
  item: the balance card reads the account item and its newest entries in one Query.
- An account made hot (usecases/hot.py) keeps the entries from the seq it was first made hot at
  (``blocks_from`` on its account item, set once and kept whatever the account becomes) in blocks of BLOCK
  seqs, each on a partition key of its own: ``ACCOUNT#<id>#E<seq // BLOCK>``. A partition key whose sort key
  only grows never splits for heat, so one key would cap the account at 1,000 entries a second; a block key
  takes at most BLOCK entries in its whole life (an entry is at most about 4 KB: 4 WCU), so it cannot need
  more than BLOCK x 4 = 800 WCU in any second, however fast the account is used.

The ``by_type`` index (partition ``type_pk``, sort key ``sk``, every attribute projected) lists one type's
entries, newest first: ``type_pk = ACCOUNT#<id>#<type>``, except a hot account's consumption from
``blocks_from`` on, which is per block too (``ACCOUNT#<id>#E<block>#consumption``) for the same reason. A page
of one type then reads only entries of that type (a filter on the base table would read, and charge for,
every entry skipped).

Reads walk the places in key order, newest first or oldest first, one Query per place (and per page of a
place), stopping as soon as they have what they were asked for. A history page's cursor is its last entry's
key and whether the account has blocks; a later page of an account with blocks reads two attributes of its
account item first (its seq bounds the walk).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ledger.domain.changes import Entry
from ledger.domain.errors import InvalidRequest
from ledger.store import schema, table
from ledger.store.schema import BLOCK, BY_TYPE_INDEX, TYPE_PK, block_pk

BLOCKS_FROM = "blocks_from"  # on the account item: the first seq kept in blocks (absent: none is)
HOT_TYPE = "consumption"  # the type a hot account writes at volume: its index partition is per block too
NEWEST = schema.SEQ_SPAN - 1
FIRST = 1


@dataclass(frozen=True, slots=True)
class Layout:
    """Where one account's entries are: ``blocks_from`` (None: all in its own partition) and ``head``, the
    highest seq an entry may have (the account's seq when it was read)."""

    account_id: str
    blocks_from: int | None = None
    head: int = NEWEST

    def in_blocks(self, seq: int) -> bool:
        return self.blocks_from is not None and seq >= self.blocks_from

    def key(self, seq: int) -> dict[str, str]:
        pk = (
            block_pk(self.account_id, seq // BLOCK)
            if self.in_blocks(seq)
            else schema.account_pk(self.account_id)
        )
        return {"pk": pk, "sk": schema.entry_sk(seq)}

    def type_pk(self, seq: int, entry_type: str) -> str:
        if entry_type == HOT_TYPE and self.in_blocks(seq):
            return schema.type_pk(block_pk(self.account_id, seq // BLOCK), entry_type)
        return schema.type_pk(schema.account_pk(self.account_id), entry_type)

    def item(self, entry: Entry) -> dict[str, Any]:
        seq = entry.seq or 0
        return {**self.key(seq), TYPE_PK: self.type_pk(seq, entry.type), **entry.to_map()}

    def places(
        self, high: int, low: int = FIRST, entry_type: str | None = None
    ) -> list[tuple[str, int, int]]:
        """(partition key, highest seq, lowest seq) of every place holding entries ``low``..``high``, newest
        first; with ``entry_type``, the places in the ``by_type`` index."""
        high = min(high, self.head)
        out: list[tuple[str, int, int]] = []
        if self.blocks_from is not None and high >= self.blocks_from:
            bottom = max(low, self.blocks_from)
            for block in range(high // BLOCK, bottom // BLOCK - 1, -1):
                seq = min(high, block * BLOCK + BLOCK - 1)
                if entry_type is None or entry_type == HOT_TYPE:
                    pk = block_pk(self.account_id, block)
                    out.append(
                        (
                            schema.type_pk(pk, entry_type) if entry_type else pk,
                            seq,
                            max(bottom, block * BLOCK),
                        )
                    )
            if entry_type is None or entry_type == HOT_TYPE:
                high = self.blocks_from - 1
        if high >= low:
            pk = schema.account_pk(self.account_id)
            out.append((schema.type_pk(pk, entry_type) if entry_type else pk, high, low))
        return out


def layout_of(account_id: str, account_item: dict[str, Any] | None) -> Layout:
    """The layout an account item (or its stream image) says."""
    item = account_item or {}
    blocks_from = item.get(BLOCKS_FROM)
    if blocks_from is None:
        return Layout(account_id)
    return Layout(account_id, int(blocks_from), int(item.get("seq", 0)))


def read_layout(account_id: str) -> Layout:
    """The account's layout, from a strongly consistent read of two attributes of its account item."""
    response = table.client().get_item(
        TableName=table.table_name(),
        Key=table.to_item({"pk": schema.account_pk(account_id), "sk": schema.ACCOUNT_SK}),
        ProjectionExpression="#s, #b",
        ExpressionAttributeNames={"#s": "seq", "#b": BLOCKS_FROM},
        ConsistentRead=True,
    )
    return layout_of(account_id, table.from_item(response.get("Item")))


# --- writes (the journal) -------------------------------------------------------------------------------


def items(layout: Layout, entries: list[Entry]) -> list[dict[str, Any]]:
    """The entries' items, for ``table.put_all`` (deterministic: writing them again changes nothing)."""
    return [layout.item(e) for e in entries]


def write_if_absent(layout: Layout, entry: Entry) -> bool:
    """Put the entry unless one is already at its seq; whether it was put."""
    try:
        table.client().put_item(
            TableName=table.table_name(),
            Item=table.to_item(layout.item(entry)),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


# --- reads ----------------------------------------------------------------------------------------------


def _query(
    place: tuple[str, int, int], index: bool, newest_first: bool, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every item of one place, page by page (``Limit`` in ``kwargs`` is per page)."""
    pk, high, low = place
    request: dict[str, Any] = {
        "TableName": table.table_name(),
        "KeyConditionExpression": "#p = :p AND sk BETWEEN :hi AND :lo",
        "ExpressionAttributeNames": {"#p": TYPE_PK if index else "pk"},
        "ExpressionAttributeValues": table.to_item(
            {":p": pk, ":hi": schema.entry_sk(high), ":lo": schema.entry_sk(low)}
        ),
        "ScanIndexForward": newest_first,  # E#<10^15 - seq>: ascending keys are newest first
        **kwargs,
    }
    if index:
        request["IndexName"] = BY_TYPE_INDEX
    while True:
        response = table.client().query(**request)
        items, next_key = response.get("Items", []), response.get("LastEvaluatedKey")
        del response
        for raw in items:
            yield table.from_item(raw) or {}
        del items  # one page in memory at a time
        if next_key is None:
            return
        request["ExclusiveStartKey"] = next_key


def newest(layout: Layout, limit: int, high: int = NEWEST, entry_type: str | None = None) -> list[Entry]:
    """Up to ``limit`` entries with seq ≤ ``high`` (of ``entry_type``, if named), newest first."""
    found: list[Entry] = []
    for place in layout.places(high, entry_type=entry_type):
        for item in _query(place, entry_type is not None, True, Limit=limit - len(found)):
            found.append(Entry.from_map(item))
            if len(found) == limit:
                return found
    return found


def at_or_below(layout: Layout, seq: int) -> Entry | None:
    """The entry with the highest seq ≤ ``seq`` (None: the history has none)."""
    found = newest(layout, 1, seq)
    return found[0] if found else None


def after_items(
    layout: Layout, seq: int, page_size: int = 1000, consistent: bool = False
) -> Iterator[dict[str, Any]]:
    """The raw items of every entry with seq > ``seq``, oldest first, ``page_size`` per Query."""
    for place in reversed(layout.places(NEWEST, seq + 1)):
        yield from _query(place, False, False, Limit=page_size, ConsistentRead=consistent)


def after(layout: Layout, seq: int, page_size: int = 1000) -> Iterator[Entry]:
    """Every entry with seq > ``seq``, oldest first, read ``page_size`` at a time (one page in memory)."""
    for item in after_items(layout, seq, page_size):
        yield Entry.from_map(item)


# --- pages and their cursors ----------------------------------------------------------------------------


def _cursor_out(layout: Layout, entries: list[Entry], limit: int, entry_type: str | None) -> str | None:
    if len(entries) < limit or not entries:
        return None
    data: dict[str, Any] = {"sk": schema.entry_sk(entries[-1].seq or 0)}
    if layout.blocks_from is not None:
        data["b"] = layout.blocks_from
    if entry_type:
        data["type"] = entry_type
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _cursor_in(account_id: str, cursor: str, entry_type: str | None) -> tuple[Layout, int]:
    """The layout and the seq the cursor's page ended at."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sk, blocks_from = data["sk"], data.get("b")
        if (
            not isinstance(sk, str)
            or not sk.startswith(schema.ENTRY_PREFIX)
            or not sk[2:].isdigit()
            or len(sk) != 17
        ):
            raise ValueError(sk)
        if blocks_from is not None and (type(blocks_from) is not int or blocks_from < FIRST):
            raise ValueError(blocks_from)
        if data.get("type") != entry_type:
            raise ValueError(data.get("type"))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        kind = " for this type" if entry_type else ""
        raise InvalidRequest(f"cursor is not one this API returned{kind}") from error
    if blocks_from is None:  # all its entries below the cursor are in the account's own partition
        return Layout(account_id), schema.seq_of_entry_sk(sk)
    # the account's own layout, never the cursor's word: its seq bounds the blocks a page may walk (a forged
    # cursor could otherwise send a page through trillions of empty blocks)
    return read_layout(account_id), schema.seq_of_entry_sk(sk)


def page(account_id: str, limit: int, cursor: str | None) -> tuple[list[Entry], str | None]:
    """Up to ``limit`` entries, newest first, and the cursor of the next page (None: the last).

    The first page is one Query from the account item on: for an account whose entries are all in its own
    partition, that Query is the page; otherwise it says where the blocks are."""
    if cursor:
        layout, last = _cursor_in(account_id, cursor, None)
        found = newest(layout, limit, last - 1)
        return found, _cursor_out(layout, found, limit, None)
    response = table.client().query(
        TableName=table.table_name(),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :e",
        ExpressionAttributeValues=table.to_item(
            {":pk": schema.account_pk(account_id), ":a": schema.ACCOUNT_SK, ":e": schema.LAST_ENTRY_SK}
        ),
        Limit=limit + 2,  # the account item and its auto top-up item come first
    )
    items = [table.from_item(i) or {} for i in response.get("Items", [])]
    account_item = next((i for i in items if i["sk"] == schema.ACCOUNT_SK), None)
    layout = layout_of(account_id, account_item)
    if layout.blocks_from is not None:
        found = newest(layout, limit)
        return found, _cursor_out(layout, found, limit, None)
    listed = [Entry.from_map(i) for i in items if i["sk"].startswith(schema.ENTRY_PREFIX)]
    if "LastEvaluatedKey" not in response and len(listed) <= limit:
        return listed, None  # the Query reached the oldest entry
    return listed[:limit], _cursor_out(layout, listed[:limit], limit, None)


def typed_page(
    account_id: str, entry_type: str, limit: int, cursor: str | None
) -> tuple[list[Entry], str | None]:
    """Up to ``limit`` entries of ``entry_type``, newest first, and the cursor of the next page (None: last)."""
    if cursor:
        layout, last = _cursor_in(account_id, cursor, entry_type)
        high = last - 1
    else:
        layout = read_layout(account_id) if entry_type == HOT_TYPE else Layout(account_id)
        high = NEWEST
    found = newest(layout, limit, high, entry_type)
    return found, _cursor_out(layout, found, limit, entry_type)


def of_type(account_id: str, entry_type: str) -> list[Entry]:
    """Every entry of one type, newest first (an operator's read: it grows with the entries of that type)."""
    layout = read_layout(account_id) if entry_type == HOT_TYPE else Layout(account_id)
    found: list[Entry] = []
    for place in layout.places(NEWEST, entry_type=entry_type):
        found += [Entry.from_map(i) for i in _query(place, True, True, Limit=1000)]
    return found

"""The single-table schema and the low-level DynamoDB client.

One partition per account, ``pk = ACCOUNT#<account_id>``:

    sk = "A"                   the account item: O(1) state, whatever the account's age, grants or holds:
                               figures (balance, held, spendable, lifetime totals), limits, ``seq``,
                               ``unsettled`` (consumption not yet allocated to grants), the ``due`` guard,
                               daily spend of the last 8 days (sd_<yyyymmdd>), the priorities of its live
                               grants (``prios``), counters (``grant_items``, ``arrived``, ``settlements``,
                               ``pending``), grants that arrived since the last settlement (b#<id>: their
                               base, s#<id>: their arrival; at most MAX_PENDING), ``schema`` (the layout's
                               version) and ``last``: the change(s) the latest write made, for the journal
                               (or, for a batch of usage, the batch item that holds them)
    sk = "AT"                  auto top-up settings and state (store/top_up_item.py)
    sk = "E#<inverted seq>"    entries, newest first in key order (written by the journal from the stream); a
                               hot account's from ``blocks_from`` on are on keys of their own (store/entries.py)
    sk = "G#<burn key>"        live grants, one item each, in burn order: G#<priority>#<expiry or never>#
                               <source rank>#<created ms>#<grant id>; so within one priority they are in
                               expiry order too. A grant used up or expired is deleted by the settlement
                               that finds it so (its history stays in the entries).
    sk = "H#<hold_id>"         holds (also the idempotency record of the hold that created them)
    sk = "HX#<expiry>#<id>"    one per open hold, in expiry order: what the settlement releases when it lapses
    sk = "I#<idempotency_key>" idempotency records of debits and grants (TTL: ``ttl``)
    sk = "N#..."               outbox items (events/outbox.py); "P#..." purchases; "R#..." reminders
    sk = "U#<yyyy-mm-dd>"      per-day usage rollups (written by the journal)
    sk = "UB#<batch id>"       the changes of a batch of usage events, in order, for the journal (TTL: ``ttl``);
                               after every entry in key order, so never in the balance card's Query

"A" sorts just before "AT" and "E#", so one Query from "A" returns the account item, its auto top-up item
and its newest entries. Sparse GSI ``due`` (due_pk, due): accounts with something due (a grant expiring, a
hold expiring) and reminders.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ledger.domain.errors import Busy, InvalidRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ACCOUNT_SK = "A"
SEQ_SPAN = 10**15
DUE_PK = "DUE"
SCHEMA_VERSION = 2  # the account layout: grants and holds in their own items
GRANT_PREFIX = "G#"
HOLD_EXPIRY_PREFIX = "HX#"
NEVER_EXPIRES = 99_999_999_999  # sorts never-expiring grants after every expiry (epoch seconds, 11 digits)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


ACCOUNT_ID = re.compile(r"^[^#\x00-\x1f\x7f]{1,128}$")


def account_pk(account_id: str) -> str:
    if not ACCOUNT_ID.match(account_id):
        raise InvalidRequest("account_id must be 1-128 characters, without '#' or control characters")
    return f"ACCOUNT#{account_id}"


def entry_sk(seq: int) -> str:
    return f"E#{SEQ_SPAN - seq:015d}"


def seq_of_entry_sk(sk: str) -> int:
    return SEQ_SPAN - int(sk[2:])


def hold_sk(hold_id: str) -> str:
    return f"H#{hold_id}"


def grant_range(priority: int) -> str:
    """The prefix of the live grants of one priority (in expiry order within it)."""
    return f"{GRANT_PREFIX}{priority:04d}#"


def grant_sk(priority: int, expires_at: int | None, rank: int, created_at: int, grant_id: str) -> str:
    """A live grant's key: lexicographic order is burn order (see domain/grants.py: burn_key)."""
    expiry = NEVER_EXPIRES if expires_at is None else expires_at
    return f"{grant_range(priority)}{expiry:011d}#{rank}#{created_at:013d}#{grant_id}"


def hold_expiry_sk(expires_at: int, hold_id: str) -> str:
    return f"{HOLD_EXPIRY_PREFIX}{expires_at:011d}#{hold_id}"


def batch_sk(batch_id: str) -> str:
    return f"UB#{batch_id}"


def idempotency_sk(key: str) -> str:
    return f"I#{key}"


RECORD_SK = "I"
IDEMPOTENCY_TTL = timedelta(days=8)  # keys are remembered at least 7 days


def own_record(key: str) -> str:
    """A record on a partition key of its own (a hot account's usage: store/shards.py), as ``Change.record``
    names it: the suffix of its partition key."""
    return f"#I#{key}"


def record_key(account_id: str, record: str) -> dict[str, str]:
    """The key of the item ``Change.record`` names: a sort key in the account's partition, or (starting with
    ``#``) a partition key of its own."""
    if record.startswith("#"):
        return {"pk": account_pk(account_id) + record, "sk": RECORD_SK}
    return {"pk": account_pk(account_id), "sk": record}


NUMBERED_SK = "E"


def numbered_key(account_id: str, record: str) -> dict[str, str] | None:
    """Where the journal puts the numbered entry of a change whose record has a partition key of its own
    (beside the record, so a retry reads both with one Query); None for a record in the account's partition,
    whose entry the journal sets on the record itself."""
    if not record.startswith("#"):
        return None
    return {"pk": account_pk(account_id) + record, "sk": NUMBERED_SK}


def shard_pk(account_id: str, shard: int) -> str:
    """The partition key of a hot account's spend shard (store/shards.py)."""
    return f"{account_pk(account_id)}#S{shard}"


def posting_key(account_id: str, shard: int, first: int, last: int) -> dict[str, str]:
    """Where a posting of shard writes ``first``..``last`` keeps their changes: a partition key of its own."""
    return {"pk": f"{shard_pk(account_id, shard)}#{first}-{last}", "sk": "P"}


def usage_sk(day: str) -> str:
    return f"U#{day}"


OPERATION_PREFIX = "o_"  # a usage rollup keeps one attribute per operation: o_<operation>


def table_name() -> str:
    return os.environ["TABLE_NAME"]


@cache
def client() -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None)


def reset_client() -> None:
    """Forget the cached client (tests switch endpoints)."""
    client.cache_clear()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values → DynamoDB's typed form (an item, a key, or expression attribute values)."""
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Typed item → plain dict with ints (the ledger stores no fractions)."""
    if item is None:
        return None
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def get_item(account_id: str, sk: str, attribute: str | None = None) -> dict[str, Any] | None:
    """One item of the account's partition, strongly consistent (only ``attribute`` of it, if named)."""
    return read_item({"pk": account_pk(account_id), "sk": sk}, attribute)


def read_item(key: dict[str, str], attribute: str | None = None) -> dict[str, Any] | None:
    """The item at ``key``, strongly consistent (only ``attribute`` of it, if named)."""
    kwargs: dict[str, Any] = {"TableName": table_name(), "Key": to_item(key), "ConsistentRead": True}
    if attribute:
        kwargs.update(ProjectionExpression="#a", ExpressionAttributeNames={"#a": attribute})
    return from_item(client().get_item(**kwargs).get("Item"))


WRITE_BATCH = 25  # DynamoDB's limit per BatchWriteItem
PARALLEL_FROM = 4  # requests: below that, one after another (a small write's requests stay in one order)
_writers: ThreadPoolExecutor | None = None


def put_all(items: list[dict[str, Any]]) -> None:
    """Put the items (unconditionally: each must be safe to write again), 25 per BatchWriteItem, each retried
    for what it leaves; many requests go out side by side (``LEDGER_WRITERS`` at a time, default 8), so a
    posting of a thousand changes takes a few round trips of time, not eighty."""
    chunks = [items[start : start + WRITE_BATCH] for start in range(0, len(items), WRITE_BATCH)]
    if len(chunks) < PARALLEL_FROM:
        for chunk in chunks:
            _put_chunk(chunk)
        return
    global _writers
    if _writers is None:
        _writers = ThreadPoolExecutor(int(os.environ.get("LEDGER_WRITERS", "8")), "ledger-writer")
    for done in [_writers.submit(_put_chunk, chunk) for chunk in chunks]:
        done.result()


def _put_chunk(chunk: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table_name(): [{"PutRequest": {"Item": to_item(item)}} for item in chunk]}
    for attempt in range(10):
        pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(0.05 * 2**attempt, 1.0))
    raise Busy("DynamoDB kept items unprocessed; retry")


def batch_get(
    keys: list[dict[str, str]], attributes: list[str] | None = None, consistent: bool = True
) -> list[dict[str, Any]]:
    """The items at ``keys`` that exist (in no particular order), in BatchGetItems of 100 keys, each retried
    for what it leaves; only ``attributes`` of them (and their keys), if named."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        asked: dict[str, Any] = {"Keys": [to_item(k) for k in keys[start : start + 100]]}
        if consistent:
            asked["ConsistentRead"] = True
        if attributes:
            names = {f"#f{i}": name for i, name in enumerate(dict.fromkeys(["pk", "sk", *attributes]))}
            asked.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        request: dict[str, Any] = {table_name(): asked}
        while request:
            response = client().batch_get_item(RequestItems=request)
            found += [from_item(raw) or {} for raw in response.get("Responses", {}).get(table_name(), [])]
            request = response.get("UnprocessedKeys") or {}
    return found

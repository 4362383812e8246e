"""The low-level DynamoDB client of the one table (its layout, every key and index: store/schema.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger import settings
from ledger.domain.errors import Busy
from ledger.runtime import aws

# Keys callers have long named through this module (``table.account_pk``); they are defined in schema.py.
from ledger.store.schema import ACCOUNT_SK as ACCOUNT_SK
from ledger.store.schema import DUE_PK as DUE_PK
from ledger.store.schema import account_pk as account_pk
from ledger.store.schema import entry_sk as entry_sk
from ledger.store.schema import hold_sk as hold_sk
from ledger.store.typed import plain, typed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


# What a DynamoDB request raises when DynamoDB answers with an error (a refused condition or value, throttling
# beyond the SDK's retries): what a caller that goes on past one account's failure catches.
DynamoDBError = ClientError

IDEMPOTENCY_TTL = timedelta(days=8)  # keys are remembered at least 7 days
OPERATION_PREFIX = "o_"  # a usage rollup keeps one attribute per operation: o_<operation>


def table_name() -> str:
    return settings.table_name()


@cache
def client() -> DynamoDBClient:
    client: DynamoDBClient = aws.client("dynamodb", settings.dynamodb_endpoint_url())
    return client


def reset_client() -> None:
    """Forget the cached client (tests switch endpoints)."""
    client.cache_clear()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values → DynamoDB's typed form (an item, a key, or expression attribute values)."""
    return {k: typed(v) for k, v in values.items()}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Typed item → plain dict with ints (the ledger stores no fractions)."""
    if item is None:
        return None
    return {k: plain(v) for k, v in item.items()}


def get_item(account_id: str, sk: str, attribute: str | None = None) -> dict[str, Any] | None:
    """One item of the account's partition, strongly consistent (only ``attribute`` of it, if named)."""
    return read_item({"pk": account_pk(account_id), "sk": sk}, attribute)


def query_pages(**request: Any) -> Iterator[list[dict[str, Any]]]:
    """The items of a Query, one page (one request) at a time, following ``LastEvaluatedKey``; the next
    page is read only when the caller asks for it."""
    request = {"TableName": table_name(), **request}
    while True:
        page = client().query(**request)
        yield [from_item(raw) or {} for raw in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


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
        _writers = ThreadPoolExecutor(settings.ledger_writers(), "ledger-writer")
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

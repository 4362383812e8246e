"""Large tables set up fast, for the benchmarks that grow a table or an account: the bench's table on a
single-threaded moto server, and items written directly with BatchWriteItem, most of them copies of items the
real code wrote."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

import boto3

from bench.stage import TABLE, environment
from credits_local.moto_engine import moto_server
from devkit.tables import create_table
from ledger.store.table import account_pk

BATCH = 25  # BatchWriteItem's limit

Item = dict[str, Any]  # an item as DynamoDB's client takes it: {"pk": {"S": ...}, ...}


@contextmanager
def served_table(extra: dict[str, str] | None = None) -> Iterator[Any]:
    """The bench's table on a single-threaded moto server (every request atomic, as in DynamoDB; in-process
    moto copies the whole table on every transaction), the functions' environment pointed at it (and ``extra``
    added); yields a DynamoDB client of it, for setting things up."""
    with moto_server() as url, environment({"DYNAMODB_ENDPOINT_URL": url, **(extra or {})}):
        db = boto3.client("dynamodb", endpoint_url=url)
        create_table(db, TABLE)
        yield db


def put(db: Any, items: Iterable[Item]) -> None:
    """Write ``items`` (taken lazily: a generator of 100k copies stays small), ``BATCH`` per request."""
    _write(db, ({"PutRequest": {"Item": item}} for item in items))


def delete(db: Any, keys: Iterable[Item]) -> None:
    """Delete the items of ``keys`` ({"pk": ..., "sk": ...}), ``BATCH`` per request."""
    _write(db, ({"DeleteRequest": {"Key": key}} for key in keys))


def _write(db: Any, requests: Iterator[dict[str, Any]]) -> None:
    while batch := list(islice(requests, BATCH)):
        db.batch_write_item(RequestItems={TABLE: batch})


def account_items(db: Any, account: str) -> list[Item]:
    """Every item of the account's partition, in key order (strongly consistent; one page: a model account
    is small)."""
    items: list[Item] = db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": account_pk(account)}},
        ConsistentRead=True,
    )["Items"]
    return items


def copies(model: list[Item], accounts: Iterable[str]) -> Iterator[Item]:
    """``model``'s items again under each of ``accounts``."""
    return ({**item, "pk": {"S": account_pk(account)}} for account in accounts for item in model)

"""The DynamoDB, EventBridge and SQS engine: a moto server in a child process serving one request at a time.

moto's in-process mock and its default threaded server are not atomic under concurrent clients (updates get
lost, transaction items duplicated). Serving requests one after another in a single thread makes every
DynamoDB call, transactions included, atomic: what concurrency tests and the local stack need.

moto 5.2.5 backs up every table a transaction touches with a deep copy and, when the transaction is
cancelled, swaps the copy in for the table. That costs time and memory in proportion to the table's size on
every transaction, and the swapped-out table keeps its stream shard: open stream iterators go on reading the
old shard, which holds the cancelled transaction's writes (phantom records) and receives nothing after. So
by default the server rolls a cancelled transaction back in place instead: it restores the items the
transaction names and drops the stream records it added.

The server also answers faster than moto 5.2.5 does by itself, with the same answers
(``tests/integration/test_moto_engine.py`` holds each to moto's own):

- moto writes every answer by walking botocore's description of the operation's output, member by member:
  for items that costs several times the operation itself. DynamoDB's item operations and the stream's
  records are already in their wire shape when moto answers them, so they are written with ``json``.
- moto's Query of a table (not an index) sorts every item of the table, then keeps one partition's, and
  weighs every item of that partition against the 1 MB page, in range or not: it reads the items in range of
  that partition only.
- moto lists its own package directory on disk for every request it routes: the list is read once. It lists
  the methods of a service's response class for every request it dispatches: once per class.

    with moto_server() as url:
        boto3.client("dynamodb", endpoint_url=url)

Run as ``python -m credits_local.moto_engine HOST PORT [--stock-rollback]`` it is the child itself.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import copy
import inspect
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from credits_local.children import Child, child, ignore_interrupts, report_port


class _NoTableCopies:
    """The ``copy`` module as moto's DynamoDB models see it, except that tables are not copied."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def roll_back_transactions_in_place() -> None:
    """Patch moto so that a cancelled transaction restores the items it named and drops its stream records."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType

    stock = models.DynamoDBBackend.transact_write_items
    if getattr(stock, "rolls_back_in_place", False):
        return  # patched already (in-process: tests and the bench patch the mock they run in)

    def key_of(table: Any, op: dict[str, Any]) -> tuple[Any, Any]:
        key = op.get("Key") or op.get("Item") or {}
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return hash_value, range_value

    def restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved: list[tuple[Any, Any, Any, Any]] = []
        shards: dict[int, tuple[Any, int]] = {}
        for action in transact_items:
            for op in action.values():
                table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                try:
                    hash_value, range_value = key_of(table, op)
                    item = table.get_item(hash_value, range_value)
                except Exception:
                    continue  # no such key: moto refuses the transaction before writing it
                saved.append((table, hash_value, range_value, copy.deepcopy(item)))
                if table.stream_shard is not None:
                    shards.setdefault(
                        id(table.stream_shard), (table.stream_shard, len(table.stream_shard.items))
                    )
        try:
            return stock(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                restore(table, hash_value, range_value, item)
            for shard, length in shards.values():
                del shard.items[length:]
            raise

    transact_write_items.rolls_back_in_place = True  # type: ignore[attr-defined]
    models.copy = _NoTableCopies()  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# The operations whose answers are items, keys, counts and stream records: nothing moto's serializer changes
# but blobs (base64), times (epoch seconds, truncated to the millisecond) and fields the operation does not
# answer with.
PLAIN_JSON_OPERATIONS = {
    "dynamodb": {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems",
    },
    "dynamodbstreams": {"GetRecords", "GetShardIterator"},
}  # fmt: skip


def _wire(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return calendar.timegm(value.timetuple()) + (value.microsecond // 1000) / 1000
    raise TypeError(f"{type(value).__name__} has no plain JSON form")


def answer_items_in_plain_json() -> None:
    """Patch moto so that the operations in ``PLAIN_JSON_OPERATIONS`` are answered with ``json.dumps`` of
    their result; the status and headers are still moto's own (its serializer, given nothing to walk)."""
    from moto.core.responses import ActionResult

    stock = ActionResult.execute_result
    if getattr(stock, "plain_json", False):
        return

    def execute_result(self: Any, context: Any) -> Any:
        wanted = PLAIN_JSON_OPERATIONS.get(context.service_model.service_name, ())
        if context.operation_model.name not in wanted or not isinstance(self.result, dict):
            return stock(self, context)
        members = context.operation_model.output_shape.members  # moto's result may hold more (left out)
        result = {name: value for name, value in self.result.items() if name in members and value is not None}
        try:
            body = json.dumps(result, default=_wire)
        except TypeError:
            return stock(self, context)
        status, headers, _ = stock(ActionResult({}), context)
        return status, headers, body

    execute_result.plain_json = True  # type: ignore[attr-defined]
    execute_result.stock = stock  # type: ignore[attr-defined]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def query_one_partition() -> None:
    """Patch moto so that a Query of a table reads the items its key condition names (the partition, and the
    sort keys in range) instead of the whole table, sorted. The query keeps only those items and sorts them by
    sort key either way; moto would also add up the size of every other item of the partition on the way."""
    from moto.dynamodb.models.table import Table

    stock_query, stock_all_items = Table.query, Table.all_items
    if getattr(stock_query, "one_partition", False):
        return
    asked = threading.local()  # the partition a query on this thread is reading, while it runs
    parameters = inspect.signature(stock_query)

    def all_items(self: Any) -> Any:
        partition = getattr(asked, "partition", None)
        if partition is None or partition[0] is not self:
            return stock_all_items(self)
        _, hash_key, comparison, bounds = partition
        items = list(self.items.get(hash_key, {}).values())
        if not comparison:
            return items
        in_range: list[Any] = []
        outside: list[Any] = []
        for item in items:
            (in_range if item.range_key.compare(comparison, bounds) else outside).append(item)
        if not in_range:
            return []
        # and the nearest item on either side: moto answers a page that reached its Limit with a last key
        # when one more item of the partition follows, in range or not
        low = min(item.range_key for item in in_range)
        below = [item for item in outside if item.range_key < low]
        above = [item for item in outside if low < item.range_key]
        neighbours = [max(below, key=lambda i: i.range_key)] if below else []
        neighbours += [min(above, key=lambda i: i.range_key)] if above else []
        return in_range + neighbours

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = parameters.bind(self, hash_key, *args, **kwargs).arguments
        if arguments.get("index_name") or self.range_key_attr is None:
            return stock_query(self, hash_key, *args, **kwargs)
        asked.partition = (self, hash_key, arguments.get("range_comparison"), arguments.get("range_objs"))
        try:
            return stock_query(self, hash_key, *args, **kwargs)
        finally:
            asked.partition = None

    query.one_partition = True  # type: ignore[attr-defined]
    query.stock = stock_query  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def read_service_names_once() -> None:
    """Patch moto's server so that the names of its services (its package's directories) are listed once,
    not on disk for every request it routes."""
    from moto import backends

    stock = backends.list_of_moto_modules
    if getattr(stock, "once", False):
        return
    names = tuple(stock())

    def list_of_moto_modules() -> tuple[str, ...]:
        return names

    list_of_moto_modules.once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules


def name_methods_once() -> None:
    """Patch moto so that the methods of a service's response class are listed once per class, not with
    ``inspect.getmembers`` on every request it dispatches (about a twentieth of an in-process request)."""
    from moto.core import responses

    stock = responses.method_names_from_class
    if getattr(stock, "once", False):
        return
    names: dict[type, list[str]] = {}

    def method_names_from_class(clazz: type) -> list[str]:
        if clazz not in names:
            names[clazz] = stock(clazz)
        return names[clazz]

    method_names_from_class.once = True  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]


def answer_faster() -> None:
    """Every patch that makes moto faster without changing an answer (see the module's docstring)."""
    answer_items_in_plain_json()
    query_one_partition()
    read_service_names_once()
    name_methods_once()


def serve(host: str, port: int, stock_rollback: bool = False) -> None:
    """Bind (port 0: the system picks a free one), report the port, serve one request at a time forever."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    ignore_interrupts()
    if not stock_rollback:
        roll_back_transactions_in_place()
    answer_faster()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=False, processes=1, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.port)
    report_port(server.port)
    server.serve_forever()


@contextmanager
def moto_process(
    host: str = "127.0.0.1", port: int = 0, env: dict[str, str] | None = None, rollback_in_place: bool = True
) -> Iterator[Child]:
    """Start a single-threaded moto server; yield it; stop it (and wait for it) on exit. Every server starts
    empty. ``rollback_in_place=False`` keeps moto's own transaction rollback (see the module's docstring)."""
    args = [host, str(port)] + ([] if rollback_in_place else ["--stock-rollback"])
    with child("moto", "credits_local.moto_engine", args, probe_path="/moto-api/", env=env) as process:
        yield process


@contextmanager
def moto_server(
    host: str = "127.0.0.1", port: int = 0, env: dict[str, str] | None = None, rollback_in_place: bool = True
) -> Iterator[str]:
    """``moto_process``, yielding only its URL."""
    with moto_process(host, port, env, rollback_in_place) as process:
        yield process.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--stock-rollback", action="store_true")
    args = parser.parse_args()
    serve(args.host, args.port, args.stock_rollback)


if __name__ == "__main__":
    main()

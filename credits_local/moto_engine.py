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

    with moto_server() as url:
        boto3.client("dynamodb", endpoint_url=url)

Run as ``python -m credits_local.moto_engine HOST PORT [--stock-rollback]`` it is the child itself.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
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


def serve(host: str, port: int, stock_rollback: bool = False) -> None:
    """Bind (port 0: the system picks a free one), report the port, serve one request at a time forever."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    ignore_interrupts()
    if not stock_rollback:
        roll_back_transactions_in_place()
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

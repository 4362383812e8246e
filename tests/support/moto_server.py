"""A moto server in a child process that serves one request at a time.

moto's in-process mock and its default threaded server are not atomic under concurrent clients (updates get
lost, transaction items duplicated). Serving requests one after another in a single thread makes every
DynamoDB call, transactions included, atomic: what concurrency tests and a local stack need.

moto 5.2.5 backs up every table a transaction touches with a deep copy and, when the transaction is
cancelled, swaps the copy in for the table. That costs time and memory in proportion to the table's size on
every transaction, and the swapped-out table keeps its stream shard: open stream iterators go on reading the
old shard, which holds the cancelled transaction's writes (phantom records) and receives nothing after. So
by default the server rolls a cancelled transaction back in place instead: it restores the items the
transaction names and drops the stream records it added.

    with moto_server() as url:
        boto3.client("dynamodb", endpoint_url=url)
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

# Runs in the child first (unless disabled): transactions roll back in place.
_ROLLBACK_IN_PLACE = """
import copy
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table


class _NoTableCopies:
    # the module's ``copy``, except that tables are not copied (the rollback below replaces the backup)
    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _key_of(table, op):
    key = op.get("Key") or op.get("Item") or {}
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table, hash_value, range_value, item):
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    elif item is None:
        table.items[hash_value].pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


def _transact_write_items(self, transact_items):
    saved, shards = [], {}
    for action in transact_items:
        for op in action.values():
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            try:
                hash_value, range_value = _key_of(table, op)
                item = table.get_item(hash_value, range_value)
            except Exception:
                continue  # no such key: moto refuses the transaction before writing it
            saved.append((table, hash_value, range_value, copy.deepcopy(item)))
            if table.stream_shard is not None:
                shards.setdefault(id(table.stream_shard), (table.stream_shard, len(table.stream_shard.items)))
    try:
        return _stock_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(saved):
            _restore(table, hash_value, range_value, item)
        for shard, length in shards.values():
            del shard.items[length:]
        raise


dynamodb_models.copy = _NoTableCopies()
_stock_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items
dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items
"""

# Runs in the child: bind (port 0: the system picks a free one), report the port, then serve forever.
_SERVE = """
import logging, os, sys
from werkzeug.serving import make_server
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

logging.getLogger("werkzeug").setLevel(logging.WARNING)
app = DomainDispatcherApplication(create_backend_app)
server = make_server(
    sys.argv[1], int(sys.argv[2]), app, threaded=False, processes=1, request_handler=MotoRequestHandler
)
os.environ["MOTO_PORT"] = str(server.port)
print(server.port, flush=True)
server.serve_forever()
"""


class MotoServerError(RuntimeError):
    """The server did not start."""


def _wait_for_port(process: subprocess.Popen[str], deadline: float) -> int:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.strip().isdigit():
                return int(line)
            raise MotoServerError(f"unexpected output instead of the port: {line!r}")
        if process.poll() is not None:
            raise MotoServerError(f"exited with status {process.returncode}")
    raise MotoServerError("did not report its port in time")


def _wait_until_answering(url: str, process: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MotoServerError(f"exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer will do
        except OSError:
            time.sleep(0.05)
    raise MotoServerError(f"{url} did not answer in time")


@contextmanager
def moto_server(
    host: str = "127.0.0.1",
    port: int = 0,
    env: dict[str, str] | None = None,
    startup_timeout: float = 30.0,
    rollback_in_place: bool = True,
) -> Iterator[str]:
    """Start a single-threaded moto server; yield its URL; stop it (and wait for it) on exit.

    ``port`` 0 picks a free port. ``env`` adds to the child's environment. Every server starts empty.
    ``rollback_in_place=False`` keeps moto's own transaction rollback (see the module's docstring)."""
    script = (_ROLLBACK_IN_PLACE if rollback_in_place else "") + _SERVE
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", script, host, str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, **(env or {})},
        )
        try:
            try:
                deadline = time.monotonic() + startup_timeout
                url = f"http://{host}:{_wait_for_port(process, deadline)}"
                _wait_until_answering(url, process, deadline)
            except MotoServerError as error:
                errors.seek(0)
                raise MotoServerError(f"moto server: {error}\n{errors.read()[-4000:]}") from None
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

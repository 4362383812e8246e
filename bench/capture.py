"""Every request the captured clients make, from botocore's event hooks; DynamoDB's with their items and capacity
units.

``before-call`` sees the request as sent, ``after-call`` the raw response, while the real code runs against
moto (which reports no consumed capacity). Sizes of written items come from the request (a put) or, for an
update or delete, from reading the item just before and just after the call with a second client that is not
captured: the larger of the two is what DynamoDB charges. Read sizes come from the response, except that a
GetItem with a projection is charged for the whole item, read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.sizes import index_write_sizes, item_size, read_units, write_units

WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass
class Write:
    """One item a request wrote (or would have written, when it was refused)."""

    key: tuple[str, str]
    size: int
    units: int
    index_units: int
    index_partitions: dict[str, int] = field(default_factory=dict)  # "<index> <partition key>": its units


@dataclass
class Call:
    phase: str
    service: str  # botocore's service id: "dynamodb", "eventbridge"
    operation: str
    request: dict[str, Any]
    status: int = 0
    body: bytes = b""
    error: str | None = None
    reasons: list[str] = field(default_factory=list)
    items_read: int = 0
    read_units: float = 0.0
    writes: list[Write] = field(default_factory=list)

    @property
    def write_units(self) -> int:
        return sum(w.units for w in self.writes)

    @property
    def index_units(self) -> int:
        return sum(w.index_units for w in self.writes)

    @property
    def committed(self) -> bool:
        return self.error is None

    @property
    def items_written(self) -> int:
        return len(self.writes) if self.committed else 0


@dataclass(frozen=True)
class Schema:
    keys: list[str]
    # index name → (key attributes, attributes projected besides the keys; None: every attribute)
    indexes: dict[str, tuple[list[str], list[str] | None]]

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.keys}


def _projected(keys: list[str], projection: dict[str, Any]) -> list[str] | None:
    """The table attributes an index projects besides its own keys (None: all of them)."""
    if projection["ProjectionType"] == "ALL":
        return None
    return [*keys, *projection.get("NonKeyAttributes", [])]


class Capture:
    """Records the calls of ``clients`` while active, in order; ``side`` (another DynamoDB client) sizes the items
    around DynamoDB writes."""

    def __init__(self, *clients: Any, side: Any | None = None) -> None:
        self.clients, self.side = clients, side
        self.calls: list[Call] = []
        self.phase = "operation"
        self._schemas: dict[str, Schema] = {}

    @contextmanager
    def active(self) -> Iterator[Capture]:
        hooks = [
            (client.meta.events, f"{when}-call.{client.meta.service_model.service_id.hyphenize()}", hook)
            for client in self.clients
            for when, hook in (("before", self._before), ("after", self._after))
        ]
        for events, name, hook in hooks:
            events.register(name, hook, unique_id=f"bench-{name}")
        try:
            yield self
        finally:
            for events, name, _ in hooks:
                events.unregister(name, unique_id=f"bench-{name}")

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls

    # sizing ---------------------------------------------------------------------------------------------

    def _schema(self, table: str) -> Schema:
        if table not in self._schemas:
            assert self.side is not None
            described = self.side.describe_table(TableName=table)["Table"]
            keys = [k["AttributeName"] for k in described["KeySchema"]]
            indexes = {
                i["IndexName"]: (
                    [k["AttributeName"] for k in i["KeySchema"]],
                    _projected(keys, i["Projection"]),
                )
                for i in described.get("GlobalSecondaryIndexes", [])
            }
            self._schemas[table] = Schema(keys, indexes)
        return self._schemas[table]

    def _current(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        assert self.side is not None
        found: dict[str, Any] | None = self.side.get_item(TableName=table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return found

    def _targets(self, operation: str, request: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(table, action, action parameters) of every item a write request names."""
        if operation in WRITES:
            return [(request["TableName"], operation.removesuffix("Item"), request)]
        if operation == "BatchWriteItem":
            return [
                (table, "Put", entry["PutRequest"])
                if "PutRequest" in entry
                else (table, "Delete", entry["DeleteRequest"])
                for table, entries in request["RequestItems"].items()
                for entry in entries
            ]
        if operation == "TransactWriteItems":
            return [
                (params["TableName"], action, params)
                for entry in request["TransactItems"]
                for action, params in entry.items()
            ]
        return []

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        request = json.loads(params.get("body") or b"{}")
        service = model.service_model.service_id.hyphenize()
        call = Call(self.phase, service, model.name, request)
        context["bench_call"] = call
        if self.side is None or service != "dynamodb":
            return
        before = []
        for table, action, args in self._targets(model.name, request):
            schema = self._schema(table)
            key = args.get("Key") or schema.key_of(args["Item"])
            before.append((table, action, args, key, self._current(table, key)))
        context["bench_before"] = before

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        call: Call | None = context.get("bench_call")
        if call is None:
            return
        call.status, call.body = http_response.status_code, http_response.content
        if "Error" in parsed:
            call.error = parsed["Error"].get("Code")
            call.reasons = [r.get("Code", "None") for r in parsed.get("CancellationReasons", [])]
        if self.side is not None and call.service == "dynamodb":
            self._size_reads(call, parsed)
            self._size_writes(call, context.get("bench_before", []))
        self.calls.append(call)

    def _size_reads(self, call: Call, parsed: dict[str, Any]) -> None:
        request = call.request
        consistent = bool(request.get("ConsistentRead"))
        if call.operation == "GetItem":
            item = parsed.get("Item")
            if "ProjectionExpression" in request:  # charged for the whole item, not the projection
                item = self._current(request["TableName"], request["Key"])
            call.items_read = 1 if item else 0
            call.read_units = read_units(item_size(item), consistent)
        elif call.operation == "BatchGetItem":  # each item by itself, whole whatever the projection
            unprocessed = parsed.get("UnprocessedKeys") or {}
            for table, asked in request["RequestItems"].items():
                left = unprocessed.get(table, {}).get("Keys", [])
                for key in (k for k in asked["Keys"] if k not in left):
                    item = self._current(table, key)
                    call.items_read += 1 if item else 0
                    call.read_units += read_units(item_size(item), bool(asked.get("ConsistentRead")))
        elif call.operation == "Query":
            if "FilterExpression" in request or "ProjectionExpression" in request:
                raise NotImplementedError("sizing a filtered or projected Query needs the items it skipped")
            items = parsed.get("Items", [])
            call.items_read = int(parsed.get("ScannedCount", len(items)))
            call.read_units = read_units(sum(item_size(i) for i in items), consistent)

    def _size_writes(
        self, call: Call, before: list[tuple[str, str, dict[str, Any], dict[str, Any], Any]]
    ) -> None:
        transactional = call.operation == "TransactWriteItems"
        for table, action, args, key, old in before:
            schema = self._schema(table)
            if call.committed:
                new = args["Item"] if action == "Put" else None
                if action == "Update":
                    new = self._current(table, key)
                elif action == "ConditionCheck":
                    new = old
            else:  # refused: charged for the item as it is (an assumption, see results.md)
                new = old
            size = max(item_size(old), item_size(new))
            partitions: dict[str, int] = {}
            if call.committed and action != "ConditionCheck":
                for name, (index_keys, projected) in schema.indexes.items():
                    units = sum(
                        write_units(size) for size in index_write_sizes(old, new, index_keys, projected)
                    )
                    if units:
                        value = next(iter((new or old or {}).get(index_keys[0], {}).values()), "")
                        partitions[f"{name} {value}"] = units
            pk = key[schema.keys[0]]["S"]
            sk = key[schema.keys[1]]["S"] if len(schema.keys) > 1 else ""
            units = write_units(size, transactional)
            call.writes.append(Write((pk, sk), size, units, sum(partitions.values()), partitions))

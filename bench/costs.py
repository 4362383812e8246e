"""Cost per operation: each operation runs once through its function against moto with its requests
captured, then the journal runs over the stream records it produced (its writes are part of the cost)."""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.capture import Call
from bench.operations import OPERATIONS, Operation
from bench.stage import Stage, stage
from ledger.store.table import ACCOUNT_SK, account_pk


@dataclass
class Exchange:
    """One DynamoDB request and the raw answer: what a stub replays to the same code later."""

    operation: str
    request: dict[str, Any]
    status: int
    body: str  # base64

    @classmethod
    def of(cls, call: Call) -> Exchange:
        return cls(call.operation, call.request, call.status, base64.b64encode(call.body).decode())


@dataclass
class Scenario:
    """A function, one event, and the DynamoDB exchanges serving it: the input of the timing benchmarks."""

    name: str
    function: str
    event: dict[str, Any]
    exchanges: list[Exchange]
    cold_start: bool = False


@dataclass
class Side:
    """The DynamoDB figures of one side of an operation (the function's own requests, or the journal's)."""

    round_trips: int = 0
    requests: str = ""
    items_read: int = 0
    items_written: int = 0
    read_units: float = 0.0
    write_units: int = 0
    index_write_units: int = 0
    cancelled: int = 0

    @classmethod
    def of(cls, calls: list[Call]) -> Side:
        names = Counter(c.operation for c in calls)
        return cls(
            round_trips=len(calls),
            requests=" + ".join(f"{n}x{op}" if n > 1 else op for op, n in names.items()),
            items_read=sum(c.items_read for c in calls),
            items_written=sum(c.items_written for c in calls),
            read_units=sum(c.read_units for c in calls),
            write_units=sum(c.write_units for c in calls),
            index_write_units=sum(c.index_units for c in calls),
            cancelled=sum(1 for c in calls if c.error == "TransactionCanceledException"),
        )


@dataclass
class Row:
    name: str
    function: str
    note: str
    own: Side
    journal: Side
    stream_records: int  # account writes: each is one stream record and wakes the journal
    partition_write_units: int  # WCU landing on the account's partition, the function's and the journal's
    account_item_write_units: int
    lambda_invocations: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def read_units(self) -> float:
        return self.own.read_units + self.journal.read_units

    @property
    def write_units(self) -> int:
        return (
            self.own.write_units
            + self.own.index_write_units
            + self.journal.write_units
            + self.journal.index_write_units
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _measure(stage: Stage, op: Operation, account: str) -> tuple[Row, Scenario, Scenario | None]:
    event = op.prepare(stage, account)
    done = stage.run(op.function, event)
    if done.status != op.status:
        raise RuntimeError(f"{op.name}: expected {op.status}, got {done.status}: {done.body}")
    pk = account_pk(account)
    committed = [w for c in done.calls if c.committed for w in c.writes]
    every = [w for c in done.calls + done.journal_calls for w in c.writes]
    records = sum(1 for w in committed if w.key == (pk, ACCOUNT_SK))
    row = Row(
        name=op.name,
        function=op.function,
        note=op.note,
        own=Side.of(done.calls),
        journal=Side.of(done.journal_calls),
        stream_records=records,
        partition_write_units=sum(w.units for w in every if w.key[0] == pk),
        account_item_write_units=sum(w.units for w in every if w.key == (pk, ACCOUNT_SK)),
        lambda_invocations=1 + (1 if records else 0),
    )
    scenario = Scenario(op.name, op.function, event, [Exchange.of(c) for c in done.calls], op.cold_start)
    journal = None
    if done.journal_records:
        journal = Scenario(
            f"journal: {op.name}",
            "journal",
            {"Records": _jsonable(done.journal_records)},
            [Exchange.of(c) for c in done.journal_calls],
        )
    return row, scenario, journal


@dataclass
class CostRun:
    rows: list[Row]
    scenarios: list[Scenario]  # one per operation, then the journal's


def measure() -> CostRun:
    rows, scenarios, journals = [], [], {}
    with stage() as s:
        for i, op in enumerate(OPERATIONS):
            row, scenario, journal = _measure(s, op, f"bench-{i:02d}")
            rows.append(row)
            scenarios.append(scenario)
            if journal:
                journals[op.name] = journal
    # the journal stands in the timing tables with the records of one debit
    debit = journals["debit"]
    debit.name, debit.cold_start = "journal (records of one debit)", True
    return CostRun(rows, [*scenarios, debit])

"""Cost per operation: each operation runs once through its function against moto with its requests
captured, then the stream's functions (the journal, the notifications publisher) run over the records it produced:
their writes, their EventBridge events and their invocations are part of the cost."""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.capture import Call
from bench.operations import OPERATIONS, Operation
from bench.stage import Stage, stage
from devkit.fake_stripe import Recorded
from ledger.store.schema import ACCOUNT_SK, account_pk


@dataclass
class Exchange:
    """One request (DynamoDB or EventBridge) and the raw answer: what a stub replays to the same code later."""

    service: str
    operation: str
    request: dict[str, Any]
    status: int
    body: str  # base64

    @classmethod
    def of(cls, call: Call) -> Exchange:
        return cls(
            call.service, call.operation, call.request, call.status, base64.b64encode(call.body).decode()
        )


@dataclass
class StripeAnswer:
    """One request to Stripe and its raw answer, replayed to the same code by the timing stub."""

    method: str
    path: str
    status: int
    body: str  # base64

    @classmethod
    def of(cls, recorded: Recorded) -> StripeAnswer:
        return cls(
            recorded.method, recorded.path, recorded.status, base64.b64encode(recorded.answer).decode()
        )


@dataclass
class Scenario:
    """A function, one event, and the exchanges serving it: the input of the timing benchmarks."""

    name: str
    function: str
    event: dict[str, Any]
    exchanges: list[Exchange]
    cold_start: bool = False
    stripe: list[StripeAnswer] = field(default_factory=list)


EVENT_CHUNK = 64 * 1024  # EventBridge bills each started 64 KB of an event as one event


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
        calls = [c for c in calls if c.service == "dynamodb"]
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
class Publishing:
    """EventBridge PutEvents requests made, the events they carried, and the 64 KB chunks those are billed as."""

    put_events: int = 0
    events: int = 0
    chunks: int = 0

    @classmethod
    def of(cls, calls: list[Call]) -> Publishing:
        puts = [c for c in calls if c.service == "eventbridge" and c.operation == "PutEvents"]
        entries = [e for c in puts for e in c.request.get("Entries", [])]
        sizes = [len(json.dumps(e, separators=(",", ":")).encode()) for e in entries]
        return cls(len(puts), len(entries), sum(max(1, math.ceil(size / EVENT_CHUNK)) for size in sizes))


@dataclass
class Row:
    name: str
    function: str
    note: str
    own: Side
    journal: Side
    journal_records: int  # stream records the journal's trigger let through (account writes)
    notification_records: int  # stream records the notifications function's trigger let through
    published: (
        Publishing  # by the function itself (the publisher's own rows) or by the notifications function
    )
    own_put_events: int  # PutEvents requests made by the function itself
    stripe_round_trips: int  # the function's requests to Stripe
    sqs_requests: int  # SQS requests: the function's and the notifications function's (top-up requests sent)
    own_sqs_requests: int  # of which the function's own
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
    if op.check is not None:
        op.check(done.body)
    pk = account_pk(account)
    journal, notifications = done.consumers["journal"], done.consumers["notifications"]
    every = [w for c in done.calls + journal.calls + notifications.calls for w in c.writes]
    row = Row(
        name=op.name,
        function=op.function,
        note=op.note,
        own=Side.of(done.calls),
        journal=Side.of(journal.calls),
        journal_records=len(journal.records),
        notification_records=len(notifications.records),
        published=Publishing.of(done.calls + notifications.calls),
        own_put_events=Publishing.of(done.calls).put_events,
        stripe_round_trips=len(done.stripe),
        sqs_requests=sum(1 for c in done.calls + notifications.calls if c.service == "sqs"),
        own_sqs_requests=sum(1 for c in done.calls if c.service == "sqs"),
        partition_write_units=sum(w.units for w in every if w.key[0] == pk),
        account_item_write_units=sum(w.units for w in every if w.key == (pk, ACCOUNT_SK)),
        lambda_invocations=1 + sum(1 for c in done.consumers.values() if c.records),
    )
    if op.events is not None and row.published.events != op.events:
        raise RuntimeError(f"{op.name}: {row.published.events} events published, expected {op.events}")
    if (row.stripe_round_trips, row.sqs_requests) != (op.stripe, op.sqs):
        raise RuntimeError(
            f"{op.name}: {row.stripe_round_trips} Stripe and {row.sqs_requests} SQS requests,"
            f" expected {op.stripe} and {op.sqs}"
        )
    scenario = Scenario(
        op.name,
        op.function,
        event,
        [Exchange.of(c) for c in done.calls],
        op.cold_start,
        [StripeAnswer.of(r) for r in done.stripe],
    )
    journal_scenario = None
    if journal.records:
        journal_scenario = Scenario(
            f"journal: {op.name}",
            "journal",
            {"Records": _jsonable(journal.records)},
            [Exchange.of(c) for c in journal.calls],
        )
    return row, scenario, journal_scenario


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

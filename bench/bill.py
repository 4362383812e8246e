"""Dollars per million operations from the measured units, at the published prices.

Lambda's billed duration cannot be measured here; it is estimated from the warm invocation time measured on
this machine, scaled to the function's CPU share (Lambda gives a full vCPU at 1,769 MB and proportionally
less below), plus an assumed DynamoDB latency per round trip. At these sizes it is a small part of the bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bench import prices
from bench.costs import Row
from tests.support.template import template

FULL_VCPU_MB = 1769
ROUND_TRIP_MS = 5.0  # assumed DynamoDB latency per request from Lambda in the same region


@cache
def memory_mb(function: str) -> int:
    t = template()
    default = int(t["Globals"]["Function"].get("MemorySize", 128))
    for resource in t["Resources"].values():
        props = resource.get("Properties", {})
        if (
            resource["Type"] == "AWS::Serverless::Function"
            and props["CodeUri"].rstrip("/") == f"functions/{function}"
        ):
            return int(props.get("MemorySize", default))
    raise KeyError(function)


def billed_ms(warm_ms: float, round_trips: int, function: str) -> float:
    return warm_ms * max(1.0, FULL_VCPU_MB / memory_mb(function)) + round_trips * ROUND_TRIP_MS


@dataclass
class Bill:
    """USD per 1 million operations."""

    dynamodb: float
    lambda_: float
    http_api: float
    eventbridge: float
    function_ms: float  # estimated billed duration of the function
    journal_ms: float

    @property
    def total(self) -> float:
        return self.dynamodb + self.lambda_ + self.http_api + self.eventbridge


def bill(row: Row, warm_ms: float, journal_warm_ms: float) -> Bill:
    million = 1_000_000
    function_ms = billed_ms(warm_ms, row.own.round_trips, row.function)
    journal_ms = billed_ms(journal_warm_ms, row.journal.round_trips, "journal") if row.stream_records else 0.0
    gb_seconds = (memory_mb(row.function) * function_ms + memory_mb("journal") * journal_ms) / 1024 / 1000
    return Bill(
        dynamodb=prices.DYNAMODB_WRITE.of(row.write_units * million)
        + prices.DYNAMODB_READ.of(row.read_units * million),
        lambda_=prices.LAMBDA_REQUEST.of(row.lambda_invocations * million)
        + prices.LAMBDA_ARM_GB_SECOND.of(gb_seconds * million),
        http_api=prices.HTTP_API_REQUEST.of(million),
        eventbridge=prices.EVENTBRIDGE_EVENT.of(0),  # no operation publishes yet: the publisher is pending
        function_ms=function_ms,
        journal_ms=journal_ms,
    )

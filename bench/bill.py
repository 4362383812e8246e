"""Dollars per million operations from the measured units, at the published prices.

Lambda's billed duration cannot be measured here; it is estimated from the warm invocation time measured on
this machine, scaled to the function's CPU share (Lambda gives a full vCPU at 1,769 MB and proportionally
less below), plus an assumed latency per DynamoDB or EventBridge round trip. At these sizes it is a small part
of the bill.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import prices
from bench.costs import Row
from bench.functions import behind_http_api, memory_mb, triggered_by_queue

FULL_VCPU_MB = 1769
ROUND_TRIP_MS = 5.0  # assumed latency per DynamoDB or EventBridge request from Lambda in the same region
POLLER_REQUESTS = (
    2  # Lambda's SQS poller: the ReceiveMessage that got the message and the DeleteMessage after it
)


def billed_ms(warm_ms: float, round_trips: int, function: str) -> float:
    return warm_ms * max(1.0, FULL_VCPU_MB / memory_mb(function)) + round_trips * ROUND_TRIP_MS


@dataclass
class Bill:
    """USD per 1 million operations."""

    dynamodb: float
    lambda_: float
    http_api: float
    eventbridge: float
    sqs: float
    function_ms: float  # estimated billed duration of the function
    journal_ms: float
    notifications_ms: float

    @property
    def total(self) -> float:
        return self.dynamodb + self.lambda_ + self.http_api + self.eventbridge + self.sqs


@dataclass(frozen=True)
class StreamTimes:
    """Warm invocation times (ms) of the stream's functions, measured in the same run."""

    journal: float
    notifications: float


def sqs_requests(row: Row) -> int:
    """The operation's SQS requests: those its functions made, and the poller's when a queue invokes it."""
    return row.sqs_requests + (POLLER_REQUESTS if triggered_by_queue(row.function) else 0)


def bill(row: Row, warm_ms: float, stream: StreamTimes) -> Bill:
    million = 1_000_000
    function_ms = billed_ms(
        warm_ms, row.own.round_trips + row.own_put_events + row.own_sqs_requests, row.function
    )
    journal_ms = billed_ms(stream.journal, row.journal.round_trips, "journal") if row.journal_records else 0.0
    notifications_ms = 0.0
    if row.notification_records:
        notifications_ms = billed_ms(
            stream.notifications,
            row.published.put_events + row.sqs_requests - row.own_sqs_requests,
            "notifications",
        )
    mb_ms = (
        memory_mb(row.function) * function_ms
        + memory_mb("journal") * journal_ms
        + memory_mb("notifications") * notifications_ms
    )
    gb_seconds = mb_ms / 1024 / 1000
    return Bill(
        dynamodb=prices.DYNAMODB_WRITE.of(row.write_units * million)
        + prices.DYNAMODB_READ.of(row.read_units * million),
        lambda_=prices.LAMBDA_REQUEST.of(row.lambda_invocations * million)
        + prices.LAMBDA_ARM_GB_SECOND.of(gb_seconds * million),
        http_api=prices.HTTP_API_REQUEST.of(million) if behind_http_api(row.function) else 0.0,
        eventbridge=prices.EVENTBRIDGE_EVENT.of(row.published.chunks * million),
        sqs=prices.SQS_REQUEST.of(sqs_requests(row) * million),
        function_ms=function_ms,
        journal_ms=journal_ms,
        notifications_ms=notifications_ms,
    )

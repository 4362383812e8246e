"""The ledger running in-process against moto: the table from template.yaml, the journal and the notifications
publisher fed from its stream as their triggers filter it, the notification bus, the auto top-up queue,
Stripe (localstripe, with Checkout and the billing portal faked at the HTTP level) behind a recording proxy, and
every request of the ledger's DynamoDB, EventBridge and SQS clients captured."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.capture import Call, Capture
from bench.functions import stream_delivery, timeout_ms
from credits_local.functions import LambdaContext
from credits_local.localstripe_server import localstripe_process
from credits_local.moto_engine import roll_back_transactions_in_place
from credits_local.streams import StreamReader
from devkit.fake_stripe import Recorded, fake_stripe
from devkit.lambdas import invoke
from devkit.stripe_events import WEBHOOK_SECRET
from devkit.stripe_proxy import StripeProxy, proxy
from devkit.tables import create_table
from ledger.events import publisher, top_up_queue
from ledger.store import changed
from ledger.store import table as ledger_table

TABLE = "ledger-bench"

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": TABLE,
    "DEFAULT_LOW_BALANCE_THRESHOLD": "100",
    "ACCOUNT_CLAIM": "custom:account_id",
    "ROLE_CLAIM": "custom:role",
    "POWERTOOLS_SERVICE_NAME": "prepaid-credits",
    "POWERTOOLS_METRICS_NAMESPACE": "PrepaidCredits",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "LEDGER_RESULT_WAIT_SECONDS": "0",
    "STRIPE_API_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "EVENT_BUS_NAME": "prepaid-credits-bench",
    "AUTO_TOP_UP_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/prepaid-credits-bench-auto-top-up",
}
QUEUE = ENVIRONMENT["AUTO_TOP_UP_QUEUE_URL"].rsplit("/", 1)[-1]
ELSEWHERE = (
    "/v1/checkout/sessions",
    "/v1/billing_portal/sessions",
)  # what localstripe lacks: the fake answers


def invoke_as_deployed(function: str, event: dict[str, Any]) -> Any:
    """Invoke the function with its template timeout left, its output (metrics, logs) kept off the console."""
    with redirect_stdout(io.StringIO()):
        return invoke(function, event, LambdaContext(remaining_ms=timeout_ms(function)))


CONSUMERS = ("journal", "notifications")  # the functions on the table's stream, in the order they are fed


@dataclass
class Consumed:
    """What one stream function did after an operation: the records it got and its requests."""

    records: list[dict[str, Any]]
    calls: list[Call]


@dataclass
class Invocation:
    """One operation as it ran: the function's answer, its requests, and what each stream function then did."""

    status: int
    body: Any
    calls: list[Call]
    consumers: dict[str, Consumed]
    stripe: list[Recorded]  # the function's requests to Stripe, with their answers


class Stream:
    """The table's stream, read as Lambda's pollers read it and delivered to each function on it through its
    trigger's settings (the records its filters let through, in batches); ``handed`` keeps what each got."""

    def __init__(self, table: str) -> None:
        arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.reader = StreamReader(boto3.client("dynamodbstreams"), arn)
        self.deliveries = {name: stream_delivery(name, arn, self._invoker(name)) for name in CONSUMERS}
        self.handed: dict[str, list[dict[str, Any]]] = {name: [] for name in CONSUMERS}

    def _invoker(self, function: str) -> Callable[[Any], Any]:
        def handle(event: dict[str, Any]) -> Any:
            self.handed[function].extend(event["Records"])
            return invoke_as_deployed(function, event)

        return handle

    def read(self) -> dict[str, list[dict[str, Any]]]:
        """Shard id → the records written since the last read."""
        return self.reader.read()

    def deliver(self, function: str, new: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Hand ``function`` what its trigger lets through of ``new``; returns the records it got."""
        self.handed[function] = []
        for shard_id, records in new.items():
            self.deliveries[function].deliver(shard_id, records)
        return self.handed[function]


@dataclass
class Stage:
    capture: Capture
    stream: Stream
    db: Any  # a client outside the capture, for setting things up fast
    stripe: StripeProxy

    def settle(self) -> None:
        """Let the stream functions catch up with everything so far, outside the capture."""
        new = self.stream.read()
        for name in CONSUMERS:
            self.stream.deliver(name, new)

    def records_of(self, action: Callable[[], Any]) -> list[dict[str, Any]]:
        """The stream records (in Lambda's shape) of the writes ``action`` makes, handed to no function."""
        self.settle()
        action()
        return [r for records in self.stream.read().values() for r in records]

    def run(self, function: str, event: dict[str, Any]) -> Invocation:
        self.settle()
        with self.capture.active():
            self.capture.phase = "operation"
            sent = len(self.stripe.requests)
            response = invoke_as_deployed(function, event)
            calls = self.capture.take()
            stripe = self.stripe.requests[sent:]
            new = self.stream.read()
            consumed = {}
            for name in CONSUMERS:
                self.capture.phase = name
                records = self.stream.deliver(name, new)
                consumed[name] = Consumed(records, self.capture.take())
        status = int(response.get("statusCode", 200)) if isinstance(response, dict) else 200
        return Invocation(status, response, calls, consumed, stripe)


def _environment() -> dict[str, str | None]:
    saved = {name: os.environ.get(name) for name in list(os.environ) if name.startswith("AWS_")}
    saved.update(
        {name: os.environ.get(name) for name in [*ENVIRONMENT, "DYNAMODB_ENDPOINT_URL", "STRIPE_API_BASE"]}
    )
    return saved


@contextmanager
def environment(extra: dict[str, str] | None = None) -> Iterator[None]:
    """The functions' environment (fake credentials, the bench table), restored afterwards."""
    saved = _environment()
    for name in saved:
        os.environ.pop(name, None)
    os.environ.update({**ENVIRONMENT, **(extra or {})})
    remembered, changed.REMEMBERED = (
        changed.REMEMBERED,
        0,
    )  # every journal run marks: the worst case, replayable
    changed.forget_marks()
    ledger_table.reset_client()
    publisher.reset_client()
    top_up_queue.client.cache_clear()
    try:
        yield
    finally:
        changed.REMEMBERED = remembered
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        ledger_table.reset_client()
        publisher.reset_client()
        top_up_queue.client.cache_clear()


@contextmanager
def stripe_stack() -> Iterator[StripeProxy]:
    """localstripe (its own store) and the fake of what it lacks, behind one recording proxy."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        localstripe_process(Path(tmp) / "localstripe.pickle") as localstripe,
        fake_stripe() as fake,
        proxy(localstripe.url, dict.fromkeys(ELSEWHERE, fake.url)) as front,
    ):
        yield front


@contextmanager
def stage() -> Iterator[Stage]:
    with ExitStack() as stack:
        stripe = stack.enter_context(stripe_stack())
        stack.enter_context(environment({"STRIPE_API_BASE": stripe.url}))
        roll_back_transactions_in_place()  # as the local stack's moto does: no table copy per transaction item
        stack.enter_context(mock_aws())
        db = boto3.client("dynamodb")
        create_table(db, TABLE)
        boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
        boto3.client("sqs").create_queue(QueueName=QUEUE)
        clients = (ledger_table.client(), publisher.client(), top_up_queue.client())
        capture = Capture(*clients, side=boto3.client("dynamodb"))
        yield Stage(capture, Stream(TABLE), db, stripe)

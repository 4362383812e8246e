"""The ledger running in-process against moto: the table from template.yaml, the journal fed from its stream,
Stripe faked at the HTTP level, and every DynamoDB request of the ledger's client captured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws

from bench.capture import Call, Capture
from ledger.store import table as ledger_table
from tests.support.fake_stripe import fake_stripe
from tests.support.lambdas import invoke
from tests.support.stream import StreamPump
from tests.support.stripe_events import WEBHOOK_SECRET
from tests.support.template import create_table_kwargs, ttl_attribute

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
    "LEDGER_RESULT_WAIT_SECONDS": "0",
    "STRIPE_API_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
}


class Journal(StreamPump):
    """The journal function fed from the table's stream; ``deliver`` also returns the records it handed over."""

    def deliver(self) -> list[dict[str, Any]]:
        self._read()
        records = list(self.pending)
        self.pump()
        return records


@dataclass
class Invocation:
    """One operation as it ran: the function's answer, its requests, and what the journal then did."""

    status: int
    body: Any
    calls: list[Call]
    journal_calls: list[Call]
    journal_records: list[dict[str, Any]]


@dataclass
class Stage:
    capture: Capture
    journal: Journal
    db: Any  # a client outside the capture, for setting things up fast

    def settle(self) -> None:
        """Let the journal catch up with everything so far, outside the capture."""
        self.journal.deliver()

    def run(self, function: str, event: dict[str, Any]) -> Invocation:
        self.settle()
        with self.capture.active():
            self.capture.phase = "operation"
            response = invoke(function, event)
            calls = self.capture.take()
            self.capture.phase = "journal"
            records = self.journal.deliver()
            journal_calls = self.capture.take()
        status = int(response.get("statusCode", 200)) if isinstance(response, dict) else 200
        return Invocation(status, response, calls, journal_calls, records)


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
    ledger_table.reset_client()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        ledger_table.reset_client()


def create_table(db: Any, name: str = TABLE) -> None:
    db.create_table(**create_table_kwargs(name))
    if attribute := ttl_attribute():
        db.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


@contextmanager
def stage() -> Iterator[Stage]:
    with ExitStack() as stack:
        stripe = stack.enter_context(fake_stripe())
        stack.enter_context(environment({"STRIPE_API_BASE": stripe.url}))
        stack.enter_context(mock_aws())
        db = boto3.client("dynamodb")
        create_table(db)
        yield Stage(Capture(ledger_table.client(), side=boto3.client("dynamodb")), Journal(TABLE), db)

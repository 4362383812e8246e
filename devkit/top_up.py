"""Auto top-up in tests: its settings route, its queue in moto delivered to the function as Lambda's SQS
mapping does, the safety-net schedule fired at a chosen time, and what an account's top-ups left behind (its
PaymentIntents at Stripe, its grants and purchase items)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
import stripe

import ledger
from credits_local.functions import LambdaContext
from devkit.http import owner
from devkit.lambdas import call, invoke
from devkit.tables import scan
from ledger.events.top_up_queue import TopUpRequest
from ledger.store import table

ROUTE = "/accounts/{account_id}/auto-top-up"


def put_settings(account: str, body: Any, claims: dict[str, str] | None = None) -> tuple[int, Any]:
    return call(
        "auto_top_up_settings",
        "PUT",
        ROUTE,
        {"account_id": account},
        body,
        claims if claims is not None else owner(account),
    )


def get_settings(account: str, claims: dict[str, str] | None = None) -> tuple[int, Any]:
    return call(
        "auto_top_up_settings",
        "GET",
        ROUTE,
        {"account_id": account},
        claims=claims if claims is not None else owner(account),
    )


def enable(account: str, threshold: int, amount: int, payment_method_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"enabled": True, "threshold": threshold, "amount": amount}
    if payment_method_id:
        body["payment_method_id"] = payment_method_id
    status, settings = put_settings(account, body)
    assert status == 200, settings
    return dict(settings)


def intents_of(client: stripe.StripeClient, account: str) -> list[dict[str, Any]]:
    """The account's PaymentIntents at Stripe (by their metadata: localstripe keeps every test's)."""
    every = (i.to_dict() for i in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter())
    return [i for i in every if (i.get("metadata") or {}).get("account_id") == account]


def top_up_grants(account: str) -> list[Any]:
    return [g for g in ledger.live_grants(account) if g.source == "auto_top_up"]


def purchases(account: str) -> list[dict[str, Any]]:
    items = [table.from_item(i) or {} for i in scan()]
    return [i for i in items if i["pk"] == f"ACCOUNT#{account}" and i["sk"].startswith("P#")]


def safety_net(at: datetime) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": "safety-net",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    return dict(invoke("auto_top_up", event, LambdaContext(remaining_ms=30_000)))


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message waiting in the queue (received, not deleted)."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        messages.extend(batch)
    return messages


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Received queue messages as Lambda's SQS mapping hands them to the function: one batch."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "test",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:auto-top-up",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


@dataclass
class Delivery:
    requests: list[TopUpRequest]
    failed: list[TopUpRequest]


class TopUpQueue:
    """The auto top-up queue in moto (AUTO_TOP_UP_QUEUE_URL points at it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str = "auto-top-up") -> None:
        from ledger.events import top_up_queue

        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        monkeypatch.setenv("AUTO_TOP_UP_QUEUE_URL", self.url)
        top_up_queue.client.cache_clear()
        self.delivered: list[TopUpRequest] = []

    def receive(self) -> list[dict[str, Any]]:
        return receive(self.sqs, self.url)

    def deliver(self) -> Delivery:
        """Hand what is queued to the function as one SQS batch; delete what it did not report failed."""
        messages = self.receive()
        if not messages:
            return Delivery([], [])
        response = invoke("auto_top_up", sqs_event(messages))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for m in messages:
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        requests = [TopUpRequest.from_json(m["Body"]) for m in messages]
        self.delivered.extend(requests)
        return Delivery(
            requests, [r for r, m in zip(requests, messages, strict=True) if m["MessageId"] in failed]
        )

"""SQS events: a queue of the template delivered to a function as Lambda's SQS event source mapping does.

One poller per mapping receives up to BatchSize messages (with all their system and message attributes),
deletes those the FilterCriteria does not let through, and invokes the function with Lambda's SQS event. A
batch the function takes is deleted; with ReportBatchItemFailures, all but the ``batchItemFailures``; a batch
the function fails is left alone, so its messages come back once the queue's visibility timeout has passed,
and the queue's redrive policy moves a message that has been received maxReceiveCount times to its
dead-letter queue. Unlike Lambda, which long-polls, the poller asks without waiting and sleeps between empty
polls: the engine serves one request at a time, and a long poll would hold every other call for its length.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.events.models import EventPattern

from credits_local.batch_response import reported_failures
from credits_local.functions import FunctionError
from credits_local.polling import POLL_INTERVAL, Poller
from credits_local.template import TemplateError

Message = dict[str, Any]
Record = dict[str, Any]
RECEIVE_LIMIT = 10  # messages per ReceiveMessage call
DEFAULT_VISIBILITY_TIMEOUT = 30


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A ReceiveMessage message attribute as Lambda's event spells it (binary values in base64)."""

    def text(data: bytes) -> str:
        return base64.b64encode(data).decode()

    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = text(value["BinaryValue"])
    return {
        **shaped,
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [text(b) for b in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }


def lambda_record(message: Message, queue_arn: str) -> Record:
    """A received message as a record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


@dataclass
class QueueMapping:
    """One SQS event of a function: the event source mapping's settings."""

    function: str
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    report_batch_item_failures: bool = False
    enabled: bool = True
    filters: list[str] = field(default_factory=list)

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    @classmethod
    def from_event(
        cls, function: str, properties: dict[str, Any], queue_urls: dict[str, str]
    ) -> QueueMapping:
        """From a resolved ``Type: SQS`` event; ``queue_urls`` maps queue ARNs to URLs."""
        queue = properties.get("Queue")
        if queue not in queue_urls:
            raise TemplateError(
                f"{function}: an SQS event's Queue must be !GetAtt <a queue of the template>.Arn"
            )
        return cls(
            function=function,
            queue_arn=queue,
            queue_url=queue_urls[queue],
            batch_size=int(properties.get("BatchSize", 10)),
            report_batch_item_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
            enabled=str(properties.get("Enabled", True)).lower() == "true",
            filters=[f["Pattern"] for f in properties.get("FilterCriteria", {}).get("Filters", [])],
        )

    def check_visibility_timeout(self, sqs: Any, function_timeout: int) -> None:
        """Refuse, as Lambda does, a queue whose visibility timeout is shorter than the function's timeout."""
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])
        visibility = int(attributes["Attributes"].get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT))
        if visibility < function_timeout:
            raise TemplateError(
                f"{self.function}: the visibility timeout of {self.queue_name} ({visibility} s) is less than"
                f" the function's timeout ({function_timeout} s)"
            )


class QueuePoller(Poller):
    """Receives a mapping's queue and delivers it to the function, until stopped."""

    def __init__(
        self,
        mapping: QueueMapping,
        invoke: Callable[[Any], Any],
        sqs: Any,
        interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__(f"queue-{mapping.function}", interval=interval)
        self.mapping, self.invoke, self.sqs = mapping, invoke, sqs
        self.patterns = [EventPattern.load(p) for p in mapping.filters]

    def receive(self) -> list[Message]:
        """Up to BatchSize visible messages, with every attribute."""
        messages: list[Message] = []
        while len(messages) < self.mapping.batch_size:
            received = self.sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(RECEIVE_LIMIT, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += received
            if not received:
                break
        return messages

    def matches(self, message: Message) -> bool:
        """Whether the FilterCriteria lets the message through: patterns on ``body``, a JSON body parsed."""
        if not self.patterns:
            return True
        try:
            body = json.loads(message["Body"])
        except ValueError:
            body = message["Body"]
        filtered: dict[str, Any] = {"body": body}
        return any(p.matches_event(filtered) for p in self.patterns)  # type: ignore[arg-type]

    def poll(self) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        messages = self.receive()
        wanted: list[Message] = []
        unwanted: list[Message] = []
        for message in messages:
            (wanted if self.matches(message) else unwanted).append(message)
        self.delete(unwanted)  # Lambda deletes what its filters leave out
        if wanted:
            self.delete(self.deliver(wanted))
        return len(messages)

    def deliver(self, messages: list[Message]) -> list[Message]:
        """Invoke the function with the batch; returns the messages it took."""
        records = [lambda_record(m, self.mapping.queue_arn) for m in messages]
        try:
            response = self.invoke({"Records": records})
        except FunctionError as error:
            if self.stopping.is_set():
                return []  # the stack is stopping: the messages stay in the queue
            print(
                f"{self.mapping.function}: batch of {len(messages)} failed, back on {self.mapping.queue_name}"
                f" after its visibility timeout: {error}",
                file=sys.stderr,
                flush=True,
            )
            return []
        if not self.mapping.report_batch_item_failures:
            return messages
        failed = reported_failures(response, [m["MessageId"] for m in messages])
        if failed is None:
            return []
        return [m for m in messages if m["MessageId"] not in failed]

    def delete(self, messages: list[Message]) -> None:
        for start in range(0, len(messages), RECEIVE_LIMIT):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages[start : start + RECEIVE_LIMIT])
            ]
            self.sqs.delete_message_batch(QueueUrl=self.mapping.queue_url, Entries=entries)

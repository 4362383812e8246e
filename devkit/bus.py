"""The notification bus in moto, with a rule that copies everything published on it to an SQS queue."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

from devkit.stream import StreamPump


class Bus:
    """Creates the bus named by EVENT_BUS_NAME; ``published()`` returns what arrived since the last call."""

    def __init__(self) -> None:
        name = os.environ["EVENT_BUS_NAME"]
        events, self.sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=name)
        self.queue_url = self.sqs.create_queue(QueueName=f"{name}-copy")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="everything", EventBusName=name, EventPattern=json.dumps({"source": ["prepaid-credits"]})
        )
        events.put_targets(Rule="everything", EventBusName=name, Targets=[{"Id": "copy", "Arn": queue_arn}])

    def published(self) -> list[dict[str, Any]]:
        """The EventBridge events (source, detail-type, detail, time, ...) in the order they arrived."""
        events: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class Notifications:
    """The notifications function fed from the table's stream, and what reached the bus."""

    def __init__(self, table_name: str) -> None:
        self.bus = Bus()
        self.stream = StreamPump(table_name, function="notifications")

    def pump(self) -> list[dict[str, Any]]:
        self.stream.pump()
        return self.bus.published()

    def kinds(self) -> list[str]:
        return [e["detail-type"] for e in self.pump()]

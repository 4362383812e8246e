"""Events published to the template's buses: a catch-all rule per bus into a queue the stack reads.

Each event is printed as one JSON line and kept (the newest ``KEEP``) for ``GET /_local/events``."""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from credits_local.polling import Poller

KEEP = 1000
# Every event on the bus has a source; an empty prefix matches them all.
MATCH_ALL = json.dumps({"source": [{"prefix": ""}]})


class BusTap(Poller):
    def __init__(self, events: Any, sqs: Any, stack: str, bus_names: list[str]) -> None:
        super().__init__("bus-tap")
        self.sqs = sqs
        self._kept: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._lock = threading.Lock()
        self.queue_urls = [self._tap(events, stack, bus) for bus in bus_names]

    def _tap(self, events: Any, stack: str, bus: str) -> str:
        url = self.sqs.create_queue(QueueName=f"{stack}-{bus}-tap")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule = f"{stack}-local-tap"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=MATCH_ALL, State="ENABLED")
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local-tap", "Arn": queue_arn}])
        return url

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._kept)

    def poll(self) -> int:
        count = 0
        for url in self.queue_urls:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for message in messages.get("Messages", []):
                event = json.loads(message["Body"])
                with self._lock:
                    self._kept.append(event)
                print(json.dumps(event, separators=(",", ":")), flush=True)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                count += 1
        return count

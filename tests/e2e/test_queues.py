"""A queue-fed function in a stack of a test template: ``credits-local up`` polls the queue, the function
(Powertools' batch processor) reports partial failures, failed messages come back and a poison message ends in
the dead-letter queue; the function finds the results queue through ``!Ref`` in its environment."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credits_local import STACK_NAME
from credits_local.resources import client
from tests.e2e.conftest import Stack, start_stack, stop_stack

TEMPLATE = Path(__file__).parent / "queued" / "template.yaml"
DEADLINE = 30.0  # the template's visibility timeout is 2 s and a poison message is received twice


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("queued"), "--template", str(TEMPLATE))
    yield running
    stop_stack(running)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_the_stack_lists_each_sqs_mapping(queued: Stack) -> None:
    lines = [line for line in queued.stdout_lines if line.startswith("sqs")]
    assert lines == [
        f"sqs        WorkerFunction ← {STACK_NAME}-WorkQueue (batch 3, 1 filter(s), partial failures on)",
        f"sqs        IdleFunction ← {STACK_NAME}-ResultsQueue (batch 10, 0 filter(s), partial failures off)"
        " (disabled)",
    ]


def test_queued_work_is_done_retried_and_dead_lettered(queued: Stack) -> None:
    sqs = client("sqs", queued.running.moto_url)
    url = {
        name: sqs.get_queue_url(QueueName=f"{STACK_NAME}-{name}")["QueueUrl"]
        for name in ("WorkQueue", "WorkDeadLetterQueue", "ResultsQueue")
    }
    for body in ({"task": "done"}, {"task": "fail-once"}, {"task": "poison"}, {"unrelated": True}):
        sqs.send_message(QueueUrl=url["WorkQueue"], MessageBody=json.dumps(body))

    deadline, dead_letters = time.monotonic() + DEADLINE, []
    while not dead_letters:
        assert time.monotonic() < deadline, queued.stderr()[-4000:]
        dead_letters = drain(sqs, url["WorkDeadLetterQueue"])
        time.sleep(0.2)

    assert dead_letters == [{"task": "poison"}]
    reports = drain(sqs, url["ResultsQueue"])  # the disabled mapping leaves the results queue alone
    seen = sorted((r["task"], r["receive_count"]) for r in reports)
    assert seen == [("done", 1), ("fail-once", 1), ("fail-once", 2), ("poison", 1), ("poison", 2)]
    assert all(r["from_work_queue"] for r in reports)
    assert drain(sqs, url["WorkQueue"]) == []  # the unrelated message was dropped by the filter

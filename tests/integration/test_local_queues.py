"""The local stack's SQS event source mapping over real (moto server) queues created from a small template:
Lambda's event shape, deletion after success, partial batch failures, function errors, redrive to the
dead-letter queue, BatchSize, filters and the queue attributes the template gives."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel

from credits_local.functions import FunctionError
from credits_local.queues import QueueMapping, QueuePoller
from credits_local.resources import Deployed, client, deploy
from credits_local.template import Template, TemplateError

TEMPLATE = Path(__file__).parents[1] / "e2e" / "queued" / "template.yaml"
REDELIVERY_DEADLINE = 20.0  # the template's visibility timeout is 2 s


@dataclass
class Queues:
    deployed: Deployed
    sqs: Any

    def url(self, logical_id: str) -> str:
        return str(self.deployed.resolver.resolve({"Ref": logical_id}))

    def mapping(self, **settings: Any) -> QueueMapping:
        event = Template.from_file(TEMPLATE).functions()["WorkerFunction"].events_of("SQS")["Work"]
        mapping = QueueMapping.from_event(
            "WorkerFunction", self.deployed.resolver.resolve(event), self.deployed.queue_urls
        )
        return replace(mapping, **settings)

    def send(self, *tasks: str, queue: str = "WorkQueue") -> list[str]:
        return [
            self.sqs.send_message(QueueUrl=self.url(queue), MessageBody=json.dumps({"task": t}))["MessageId"]
            for t in tasks
        ]

    def count(self, queue: str) -> int:
        """Messages in the queue, visible or in flight."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url(queue), AttributeNames=names)[
            "Attributes"
        ]
        return sum(int(attributes[n]) for n in names)


@pytest.fixture
def queues(moto_server: str) -> Queues:
    """The template's queues, under a stack name of their own, on the module's moto server."""
    stack = f"q{uuid.uuid4().hex[:8]}"
    return Queues(deploy(Template.from_file(TEMPLATE), stack, moto_server), client("sqs", moto_server))


class Function:
    """Stands in for the function: keeps each batch it is given; ``answer`` says what it returns or raises."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], Any] = lambda records: None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.answer = answer

    def __call__(self, event: dict[str, Any]) -> Any:
        self.batches.append(event["Records"])
        return self.answer(event["Records"])

    def tasks(self) -> list[list[str]]:
        return [[json.loads(r["body"])["task"] for r in batch] for batch in self.batches]


def poll_until(poller: QueuePoller, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + REDELIVERY_DEADLINE
    while not done():
        assert time.monotonic() < deadline, "not delivered in time"
        poller.poll()
        time.sleep(0.05)


def failing(*tasks: str) -> Callable[[list[dict[str, Any]]], Any]:
    """An answer reporting the records of these tasks as failed."""

    def answer(records: list[dict[str, Any]]) -> dict[str, Any]:
        failed = [r["messageId"] for r in records if json.loads(r["body"])["task"] in tasks]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    return answer


def test_queues_get_the_template_attributes_and_resolve_to_the_local_url_and_arn(queues: Queues) -> None:
    url, dead_letter_arn = (
        queues.url("WorkQueue"),
        queues.deployed.resolver.resolve({"Fn::GetAtt": ["WorkDeadLetterQueue", "Arn"]}),
    )
    names = ["QueueArn", "VisibilityTimeout", "RedrivePolicy"]
    attributes = queues.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert attributes["VisibilityTimeout"] == "2"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": 2,
    }
    assert queues.deployed.resolver.resolve({"Fn::GetAtt": ["WorkQueue", "Arn"]}) == attributes["QueueArn"]
    assert queues.deployed.queue_urls[attributes["QueueArn"]] == url
    dead_letter = queues.sqs.get_queue_attributes(
        QueueUrl=queues.url("WorkDeadLetterQueue"), AttributeNames=["MessageRetentionPeriod", "QueueArn"]
    )["Attributes"]
    assert dead_letter == {"MessageRetentionPeriod": "1209600", "QueueArn": dead_letter_arn}


def test_a_batch_the_function_takes_arrives_as_lambda_shapes_it_and_is_deleted(queues: Queues) -> None:
    message_id = queues.sqs.send_message(
        QueueUrl=queues.url("WorkQueue"),
        MessageBody='{"task": "top-up"}',
        MessageAttributes={
            "account": {"DataType": "String", "StringValue": "acme"},
            "amount": {"DataType": "Number", "StringValue": "500"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )["MessageId"]
    function = Function()
    assert QueuePoller(queues.mapping(), function, queues.sqs).poll() == 1

    [[record]] = function.batches
    [parsed] = parse(
        event={"Records": [record]}, model=SqsModel
    ).Records  # Powertools reads it as an SQS event
    assert (parsed.messageId, parsed.body, parsed.eventSource) == (
        message_id,
        '{"task": "top-up"}',
        "aws:sqs",
    )
    assert parsed.eventSourceARN == queues.mapping().queue_arn and parsed.awsRegion == "us-east-1"
    assert parsed.attributes.ApproximateReceiveCount == "1" and parsed.attributes.SentTimestamp
    assert record["messageAttributes"] == {
        "account": {
            "stringValue": "acme",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "amount": {
            "stringValue": "500",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number",
        },
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert record["md5OfMessageAttributes"] and record["md5OfBody"] and record["receiptHandle"]
    assert queues.count("WorkQueue") == 0


def test_batches_hold_at_most_batch_size_messages(queues: Queues) -> None:
    queues.send(*(f"t{i}" for i in range(7)))
    function = Function()
    poller = QueuePoller(queues.mapping(), function, queues.sqs)  # the template's BatchSize: 3
    while poller.poll():
        pass
    assert [len(b) for b in function.batches] == [3, 3, 1]
    assert sorted(t for batch in function.tasks() for t in batch) == [f"t{i}" for i in range(7)]

    queues.send(*(f"u{i}" for i in range(12)))
    larger = Function()
    QueuePoller(queues.mapping(batch_size=12), larger, queues.sqs).poll()  # more than one ReceiveMessage
    assert [len(b) for b in larger.batches] == [12]
    assert queues.count("WorkQueue") == 0


def test_reported_item_failures_come_back_alone_after_the_visibility_timeout(queues: Queues) -> None:
    queues.send("a", "b", "c")
    function = Function(failing("b"))
    poller = QueuePoller(queues.mapping(), function, queues.sqs)
    poller.poll()
    assert function.tasks() == [["a", "b", "c"]]
    assert queues.count("WorkQueue") == 1  # b, in flight

    function.answer = lambda records: {"batchItemFailures": []}
    poll_until(poller, lambda: len(function.batches) == 2)
    assert function.tasks()[1] == ["b"]
    assert function.batches[1][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert queues.count("WorkQueue") == 0


def test_a_function_error_brings_the_whole_batch_back(queues: Queues) -> None:
    sent = queues.send("a", "b")

    def crash(records: list[dict[str, Any]]) -> None:
        raise FunctionError("RuntimeError", "down")

    function = Function(crash)
    poller = QueuePoller(queues.mapping(), function, queues.sqs)
    poller.poll()
    assert queues.count("WorkQueue") == 2

    function.answer = lambda records: None
    poll_until(poller, lambda: len(function.batches) == 2)
    assert sorted(r["messageId"] for r in function.batches[1]) == sorted(sent)
    assert {r["attributes"]["ApproximateReceiveCount"] for r in function.batches[1]} == {"2"}
    assert queues.count("WorkQueue") == 0


def test_a_response_naming_no_record_of_the_batch_fails_all_of_it(queues: Queues) -> None:
    queues.send("a", "b")
    function = Function(lambda records: {"batchItemFailures": [{"itemIdentifier": "not-a-message"}]})
    QueuePoller(queues.mapping(), function, queues.sqs).poll()
    assert queues.count("WorkQueue") == 2


def test_without_report_batch_item_failures_the_answer_is_ignored(queues: Queues) -> None:
    queues.send("a", "b")
    function = Function(failing("a", "b"))
    QueuePoller(queues.mapping(report_batch_item_failures=False), function, queues.sqs).poll()
    assert queues.count("WorkQueue") == 0


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue(queues: Queues) -> None:
    [poison] = queues.send("poison")
    function = Function(failing("poison"))
    poller = QueuePoller(queues.mapping(), function, queues.sqs)
    poll_until(poller, lambda: queues.count("WorkDeadLetterQueue") == 1)

    assert function.tasks() == [["poison"], ["poison"]]  # the template's maxReceiveCount: 2
    assert queues.count("WorkQueue") == 0
    [moved] = queues.sqs.receive_message(QueueUrl=queues.url("WorkDeadLetterQueue"))["Messages"]
    assert (moved["MessageId"], json.loads(moved["Body"])) == (poison, {"task": "poison"})


def test_messages_the_filter_lets_through_are_delivered_the_others_deleted_unseen(queues: Queues) -> None:
    for body in ('{"task": "kept"}', '{"other": 1}', "not json"):
        queues.sqs.send_message(QueueUrl=queues.url("WorkQueue"), MessageBody=body)
    function = Function()
    QueuePoller(queues.mapping(), function, queues.sqs).poll()
    assert function.tasks() == [["kept"]]
    assert queues.count("WorkQueue") == 0


def test_a_visibility_timeout_shorter_than_the_function_timeout_is_refused(queues: Queues) -> None:
    mapping = queues.mapping()
    mapping.check_visibility_timeout(queues.sqs, 2)
    with pytest.raises(
        TemplateError, match=r"visibility timeout of .*WorkQueue \(2 s\) is less than .* \(3 s\)"
    ):
        mapping.check_visibility_timeout(queues.sqs, 3)


def test_an_sqs_event_must_name_a_queue_of_the_template(queues: Queues) -> None:
    with pytest.raises(TemplateError, match="WorkerFunction: an SQS event's Queue"):
        QueueMapping.from_event("WorkerFunction", {"Queue": "arn:aws:sqs:us-east-1:1:elsewhere"}, {})
    assert queues.mapping().enabled
    idle = Template.from_file(TEMPLATE).functions()["IdleFunction"].events_of("SQS")["Results"]
    resolved = queues.deployed.resolver.resolve(idle)
    assert not QueueMapping.from_event("IdleFunction", resolved, queues.deployed.queue_urls).enabled

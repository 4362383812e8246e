"""The local stack's event source mapping over a real (moto) table stream: filters, batches, partial failures,
retries, bisection and the on-failure queue, as Lambda delivers a DynamoDB stream."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from credits_local.functions import FunctionError
from credits_local.streams import Delivery, StreamMapping, StreamReader, sequence_of
from credits_local.template import FUNCTION, resources
from tests.conftest import TABLE

Batches = list[list[str]]


def write(*sort_keys: str) -> None:
    db = boto3.client("dynamodb")
    for sk in sort_keys:
        db.put_item(TableName=TABLE, Item={"pk": {"S": "ACCOUNT#s"}, "sk": {"S": sk}})


def reader() -> StreamReader:
    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return StreamReader(boto3.client("dynamodbstreams"), arn)


def mapping(**settings: Any) -> StreamMapping:
    return StreamMapping(
        function="F",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:F",
        stream_arn="s",
        **settings,
    )


def keys(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"]]


def deliver(delivery: Delivery, source: StreamReader) -> None:
    for shard, records in source.read().items():
        delivery.deliver(shard, records)


def no_wait(attempt: int) -> float:
    return 0.0


@pytest.mark.usefixtures("aws")
def test_only_records_matching_the_template_filter_are_delivered_in_batches() -> None:
    journal = resources(FUNCTION)["JournalFunction"]["Properties"]["Events"]["AccountChanges"]["Properties"]
    patterns = [f["Pattern"] for f in journal["FilterCriteria"]["Filters"]]
    batches: Batches = []
    delivery = Delivery(
        mapping(filters=patterns, batch_size=2), lambda e: batches.append(keys(e)), backoff=no_wait
    )
    source = reader()
    write("A", "E#1", "A", "U#2026-11-21", "A", "A", "A")
    deliver(delivery, source)
    assert batches == [["A", "A"], ["A", "A"], ["A"]]
    write("E#2")
    deliver(delivery, source)  # nothing new matches
    assert len(batches) == 3


@pytest.mark.usefixtures("aws")
def test_reported_item_failures_resume_the_batch_from_the_first_failed_record() -> None:
    batches: Batches = []
    failed_once: list[str] = []

    def function(event: dict[str, Any]) -> dict[str, Any]:
        batches.append(keys(event))
        sequences = [sequence_of(r) for r in event["Records"]]
        if "3" in keys(event) and not failed_once:  # record 3 fails once, and the function stops there
            failed_once.append("3")
            failed = sequences[keys(event).index("3") :]
            return {"batchItemFailures": [{"itemIdentifier": s} for s in reversed(failed)]}
        return {"batchItemFailures": []}

    delivery = Delivery(mapping(report_batch_item_failures=True, batch_size=10), function, backoff=no_wait)
    source = reader()
    write("1", "2", "3", "4", "5")
    deliver(delivery, source)
    assert batches == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


@pytest.mark.usefixtures("aws")
def test_a_batch_whose_retries_run_out_goes_to_the_on_failure_queue() -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="journal-dlq")["QueueUrl"]
    calls: Batches = []

    def function(event: dict[str, Any]) -> None:
        calls.append(keys(event))
        raise FunctionError("Exception", "boom")

    settings = {"maximum_retry_attempts": 2, "on_failure_queue_url": queue}
    delivery = Delivery(mapping(**settings), function, sqs, backoff=no_wait)
    source = reader()
    write("1", "2")
    deliver(delivery, source)
    assert calls == [["1", "2"]] * 3  # the first attempt and two retries

    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    info = record["DDBStreamBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert info["batchSize"] == 2
    assert [info["startSequenceNumber"], info["endSequenceNumber"]] == [
        r
        for r in delivery.failed_batches[0]["DDBStreamBatchInfo"].values()
        if isinstance(r, str) and r.isdigit()
    ][:2]
    write("3")
    deliver(delivery, source)  # the stream moves on past the failed batch
    assert calls[-1] == ["3"]


@pytest.mark.usefixtures("aws")
def test_bisection_isolates_the_record_the_function_cannot_take() -> None:
    succeeded: Batches = []

    def function(event: dict[str, Any]) -> None:
        if "3" in keys(event):
            raise FunctionError("Exception", "poison")
        succeeded.append(keys(event))

    delivery = Delivery(mapping(bisect_on_error=True, maximum_retry_attempts=0), function, backoff=no_wait)
    source = reader()
    write("1", "2", "3", "4")
    deliver(delivery, source)
    assert succeeded == [["1", "2"], ["4"]]
    [given_up] = delivery.failed_batches
    assert given_up["DDBStreamBatchInfo"]["batchSize"] == 1

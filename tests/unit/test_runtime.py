"""What every function relies on from ``ledger.runtime``: partial batch answers, metrics, logs, schedule time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.runtime import metrics
from ledger.runtime.batch import BatchFailed, each_record
from ledger.runtime.log import Logger
from ledger.runtime.schedule import NotScheduled, scheduled_time


def stream(*sequence_numbers: str) -> dict[str, Any]:
    return {"Records": [{"eventID": f"e{n}", "dynamodb": {"SequenceNumber": n}} for n in sequence_numbers]}


def failing_on(*bad: str) -> tuple[list[str], Any]:
    handled: list[str] = []

    def handle(record: dict[str, Any]) -> None:
        number = record.get("messageId") or record["dynamodb"]["SequenceNumber"]
        handled.append(number)
        if number in bad:
            raise RuntimeError(number)

    return handled, handle


def test_a_failed_record_is_named_and_the_others_are_handled() -> None:
    handled, handle = failing_on("2")
    assert each_record(stream("1", "2", "3"), handle) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert handled == ["1", "2", "3"]


def test_in_order_every_record_after_the_first_failure_is_failed_unhandled() -> None:
    handled, handle = failing_on("2")
    answer = each_record(stream("1", "2", "3", "4"), handle, in_order=True)
    assert answer == {"batchItemFailures": [{"itemIdentifier": n} for n in ("2", "3", "4")]}
    assert handled == ["1", "2"]


def test_sqs_records_are_named_by_message_id_and_a_whole_failed_batch_is_raised_or_reported() -> None:
    event = {"Records": [{"messageId": "m1", "body": "{}"}, {"messageId": "m2", "body": "{}"}]}
    _, handle = failing_on("m1", "m2")
    with pytest.raises(BatchFailed):
        each_record(event, handle)
    reported = each_record(event, handle, raise_if_all_failed=False)
    assert reported == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert each_record({"Records": []}, handle) == {"batchItemFailures": []}


def test_metrics_are_one_embedded_metric_document_per_invocation(capsys: pytest.CaptureFixture[str]) -> None:
    @metrics.log_metrics
    def handler() -> None:
        metrics.add_metric("CreditsExpired", 3)
        metrics.add_metric("CreditsExpired", 2)
        metrics.add_metric("SweepFailures", 0)

    handler()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    document = lines[0]
    assert document["CreditsExpired"] == 5 and document["SweepFailures"] == 0
    declared = document["_aws"]["CloudWatchMetrics"][0]
    assert declared["Namespace"] == "PrepaidCredits"
    assert {m["Name"] for m in declared["Metrics"]} == {"CreditsExpired", "SweepFailures"}
    handler_without_metrics = metrics.log_metrics(lambda: None)
    handler_without_metrics()
    assert capsys.readouterr().out == ""


def test_logs_are_json_lines_with_the_invocation_keys(capsys: pytest.CaptureFixture[str]) -> None:
    logger = Logger()

    class Context:
        function_name = "debit"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:debit"
        aws_request_id = "req-1"

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.warning("AWS asked to slow down", code="ThrottlingException")
        logger.info("swept", extra={"accounts": 3})

    handler({"requestContext": {"requestId": "api-1"}}, Context())
    logger.warning("after")
    first, second, after = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["level"] == "WARNING" and first["message"] == "AWS asked to slow down"
    assert first["code"] == "ThrottlingException" and first["function_request_id"] == "req-1"
    assert first["correlation_id"] == "api-1" and first["service"] == "prepaid-credits"
    assert first["location"].startswith("handler:")
    assert second["accounts"] == 3
    assert "function_request_id" not in after  # the invocation's keys end with it


def test_a_scheduled_invocation_is_for_its_event_time() -> None:
    assert scheduled_time({"time": "2026-12-06T09:00:00Z"}) == datetime(2026, 12, 6, 9, tzinfo=UTC)
    for event in ({}, {"time": "yesterday"}, {"time": "2026-12-06T09:00:00"}):
        with pytest.raises(NotScheduled):
            scheduled_time(event)


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
        "1999-12-31T23:59:59Z",
        "9000-01-01T00:00:01Z",
    ],
)
def test_a_time_no_ledger_has_is_not_a_schedule(time: str) -> None:
    """The runs compute windows (a day back, days forward) from the time: they must stay dates."""
    with pytest.raises(NotScheduled):
        scheduled_time({"time": time})


def test_times_ahead_of_the_clock_are_taken_for_replays() -> None:
    assert scheduled_time({"time": "2100-01-01T00:00:00Z"}) == datetime(2100, 1, 1, tzinfo=UTC)

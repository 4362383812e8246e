"""DynamoDB stream events: the table's stream delivered to a function as Lambda's event source mapping does.

Per shard, in order: records matching the FilterCriteria (the others are dropped), in batches of at most
BatchSize. A batch the function fails is retried (MaximumRetryAttempts, -1 = until it succeeds), split in
two first when BisectBatchOnFunctionError is set; with ReportBatchItemFailures the function's
``batchItemFailures`` resume the batch from the first failed sequence number. A batch whose retries run out
goes to the on-failure destination (an SQS queue: the invocation record Lambda sends) and is skipped.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventPattern

from credits_local.batch_response import reported_failures
from credits_local.functions import FunctionError
from credits_local.polling import POLL_INTERVAL, Poller

Record = dict[str, Any]


def lambda_record(record: Record, stream_arn: str) -> Record:
    """A GetRecords record as Lambda delivers it: with its source ARN, the creation time in epoch seconds."""
    stream = dict(record["dynamodb"])
    if isinstance(created := stream.get("ApproximateCreationDateTime"), datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": stream, "eventSourceARN": stream_arn}


class StreamReader:
    """Reads what is new on a stream, shard by shard, with fresh iterators after the last record read.

    moto swaps a table's stream shard for a copy when it rolls a cancelled transaction back (unless the server
    rolls back in place); an iterator kept from before would read the old shard. New iterators after the last
    sequence number follow the stream as it is now, as Lambda's poller follows a shard by its checkpoint."""

    def __init__(self, streams: Any, stream_arn: str, starting_position: str = "TRIM_HORIZON") -> None:
        self.streams, self.arn = streams, stream_arn
        self.last_sequence: dict[str, str] = {}
        self.latest = starting_position == "LATEST"
        if self.latest:
            self.read()  # what is there already is not delivered
            self.latest = False

    def read(self) -> dict[str, list[Record]]:
        """Shard id → its new records, oldest first, shaped as Lambda delivers them."""
        new: dict[str, list[Record]] = {}
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            after = self.last_sequence.get(shard_id)
            position: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)
            cursor = iterator["ShardIterator"]
            while cursor:
                response = self.streams.get_records(ShardIterator=cursor, Limit=1000)
                if not response["Records"]:
                    break
                for record in response["Records"]:
                    new.setdefault(shard_id, []).append(lambda_record(record, self.arn))
                    self.last_sequence[shard_id] = record["dynamodb"]["SequenceNumber"]
                cursor = response.get("NextShardIterator")
        return new


def sequence_of(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass
class StreamMapping:
    """One DynamoDB event of a function: the event source mapping's settings."""

    function: str
    function_arn: str
    stream_arn: str
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    filters: list[str] = field(default_factory=list)
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    on_failure_queue_url: str | None = None

    @classmethod
    def from_event(
        cls, function: str, function_arn: str, properties: dict[str, Any], queue_urls: dict[str, str]
    ) -> StreamMapping:
        """From a resolved ``Type: DynamoDB`` event; ``queue_urls`` maps queue ARNs to URLs."""
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination is not None and destination not in queue_urls:
            raise ValueError(
                f"{function}: only an SQS queue of the template can be the on-failure destination"
            )
        return cls(
            function=function,
            function_arn=function_arn,
            stream_arn=properties["Stream"],
            batch_size=int(properties.get("BatchSize", 100)),
            starting_position=properties.get("StartingPosition", "TRIM_HORIZON"),
            filters=[f["Pattern"] for f in properties.get("FilterCriteria", {}).get("Filters", [])],
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
            report_batch_item_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
            on_failure_queue_url=queue_urls[destination] if destination else None,
        )


def _backoff(attempt: int) -> float:
    return min(0.1 * 2**attempt, 5.0)


class Delivery:
    """Delivers records to a function under a mapping's rules; keeps what went to the on-failure destination."""

    def __init__(
        self,
        mapping: StreamMapping,
        invoke: Callable[[Any], Any],
        sqs: Any = None,
        backoff: Callable[[int], float] = _backoff,
        stopping: threading.Event | None = None,
    ) -> None:
        self.mapping, self.invoke, self.sqs, self.backoff = mapping, invoke, sqs, backoff
        self.stopping = stopping or threading.Event()
        self.patterns = [EventPattern.load(p) for p in mapping.filters]
        self.failed_batches: list[dict[str, Any]] = []

    def matches(self, record: Record) -> bool:
        return not self.patterns or any(p.matches_event(record) for p in self.patterns)  # type: ignore[arg-type]

    def deliver(self, shard_id: str, records: list[Record]) -> None:
        records = [r for r in records if self.matches(r)]
        size = max(1, self.mapping.batch_size)
        for start in range(0, len(records), size):
            self._batch(shard_id, records[start : start + size])

    def _batch(self, shard_id: str, batch: list[Record]) -> None:
        attempts = 0
        while batch and not self.stopping.is_set():
            failed_from = self._invoke(batch)
            if failed_from is None:
                return
            whole_batch = failed_from == 0
            if whole_batch and self.mapping.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                self._batch(shard_id, batch[:half])
                self._batch(shard_id, batch[half:])
                return
            attempts += 1
            batch = batch[failed_from:]
            if 0 <= self.mapping.maximum_retry_attempts < attempts:
                self._give_up(shard_id, batch, attempts)
                return
            self.stopping.wait(self.backoff(attempts))

    def _invoke(self, batch: list[Record]) -> int | None:
        """None when the batch succeeded, else the index to resume from."""
        try:
            response = self.invoke({"Records": batch})
        except FunctionError as error:
            print(
                f"{self.mapping.function}: batch of {len(batch)} failed: {error}", file=sys.stderr, flush=True
            )
            return 0
        if not self.mapping.report_batch_item_failures:
            return None
        sequences = [sequence_of(r) for r in batch]
        failed = reported_failures(response, sequences)
        if failed is None:
            return 0
        return min(sequences.index(i) for i in failed) if failed else None

    def _give_up(self, shard_id: str, batch: list[Record], attempts: int) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(batch),
                "streamArn": self.mapping.stream_arn,
            },
        }
        self.failed_batches.append(record)
        print(
            f"{self.mapping.function}: gave up on {len(batch)} record(s) after {attempts} attempt(s)"
            f" ({first['SequenceNumber']}..{last['SequenceNumber']})"
            + (" → on-failure destination" if self.mapping.on_failure_queue_url else ""),
            file=sys.stderr,
            flush=True,
        )
        if self.sqs is not None and self.mapping.on_failure_queue_url:
            self.sqs.send_message(QueueUrl=self.mapping.on_failure_queue_url, MessageBody=json.dumps(record))


class StreamPoller(Poller):
    """Polls a stream and delivers what is new, until stopped."""

    def __init__(self, reader: StreamReader, delivery: Delivery, interval: float = POLL_INTERVAL) -> None:
        super().__init__(f"stream-{delivery.mapping.function}", delivery.stopping, interval)
        self.reader, self.delivery = reader, delivery

    def poll(self) -> int:
        """Read and deliver what is new; returns how many records were read."""
        count = 0
        for shard_id, records in self.reader.read().items():
            count += len(records)
            self.delivery.deliver(shard_id, records)
        return count

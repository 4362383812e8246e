"""Delivering the table's stream to the journal function the way Lambda's event source mapping does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3

from tests.support.lambdas import invoke


def lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: with its source ARN, the creation time in epoch seconds."""
    stream = record["dynamodb"]
    if isinstance(created := stream.get("ApproximateCreationDateTime"), datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    record["eventSourceARN"] = arn
    return record


class StreamPump:
    """Reads new stream records of a table and hands them to a function in batches, in order."""

    def __init__(
        self,
        table_name: str,
        function: str = "journal",
        batch_size: int = 100,
        endpoint_url: str | None = None,
    ) -> None:
        self.function, self.batch_size = function, batch_size
        self.db = boto3.client("dynamodb", endpoint_url=endpoint_url)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url)
        self.arn = self.db.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.last_sequence: dict[str, str] = {}
        self.pending: list[dict[str, Any]] = []

    def _read(self) -> None:
        """Everything after the last record delivered, with fresh iterators on every read.

        In-process moto swaps a table for a copy when a transaction is cancelled; an iterator kept from before
        would go on reading the old copy's shard. Asking for new iterators after the last sequence number
        follows the table as it is now, as Lambda's poller follows a shard by its checkpoint."""
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            after = self.last_sequence.get(shard_id)
            position: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)[
                "ShardIterator"
            ]
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                for record in response["Records"]:
                    self.pending.append(lambda_record(record, self.arn))
                    self.last_sequence[shard_id] = record["dynamodb"]["SequenceNumber"]
                if not response["Records"]:
                    break
                iterator = response.get("NextShardIterator")

    def pump(self) -> list[dict[str, Any]]:
        """Deliver everything new; a batch's reported failures are redelivered from the first one.

        Returns the responses of the function."""
        self._read()
        responses = []
        for _ in range(10_000):
            if not self.pending:
                return responses
            batch = self.pending[: self.batch_size]
            response = invoke(self.function, {"Records": batch})
            responses.append(response)
            failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            if not failed:
                del self.pending[: len(batch)]
                continue
            first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
            del self.pending[:first]
        raise RuntimeError("the stream did not drain")

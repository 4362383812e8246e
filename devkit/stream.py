"""Delivering the table's stream to the journal function the way Lambda's event source mapping does."""

from __future__ import annotations

from typing import Any

import boto3

from credits_local.streams import StreamReader
from devkit.lambdas import invoke


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
        self.reader = StreamReader(self.streams, self.arn)
        self.last_sequence = self.reader.last_sequence  # shard → last sequence number read
        self.pending: list[dict[str, Any]] = []

    def _read(self) -> None:
        for records in self.reader.read().values():
            self.pending.extend(records)

    def pump(self) -> list[dict[str, Any]]:
        """Deliver everything new; a batch's reported failures are redelivered from the first one.

        Returns the responses of the function."""
        self._read()
        responses: list[dict[str, Any]] = []
        for _ in range(10_000):
            if not self.pending:
                self._read()  # what the function wrote meanwhile (a hot account's postings)
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

"""Batches from DynamoDB Streams and SQS, answered with partial failures (``ReportBatchItemFailures``).

Each record is handled on its own; a record whose handler raises is named in ``batchItemFailures`` (by its
stream sequence number, or its SQS message id) and the others are not held back, unless ``in_order``: then,
as a stream of one account's changes needs, every record after the first failure is reported failed without
being handled, and Lambda delivers them again, in order, from the first failure. A batch in which every record
failed is raised as ``BatchFailed`` unless ``raise_if_all_failed`` is false (Lambda retries it either way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.runtime.log import Logger

logger = Logger()


class BatchFailed(Exception):
    """Every record of the batch failed."""


class EarlierRecordFailed(Exception):
    """Not handled: a record before it in the batch failed."""


def _identifier(record: dict[str, Any]) -> str:
    if "messageId" in record:
        return str(record["messageId"])
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def each_record(
    event: dict[str, Any],
    handle: Callable[[dict[str, Any]], None],
    *,
    in_order: bool = False,
    raise_if_all_failed: bool = True,
) -> dict[str, list[dict[str, str]]]:
    records: list[dict[str, Any]] = event.get("Records") or []
    failed: list[str] = []
    for record in records:
        if in_order and failed:
            failed.append(_identifier(record))
            continue
        try:
            handle(record)
        except Exception as error:  # reported: Lambda delivers the record again
            logger.warning("record failed", record=_identifier(record), error=repr(error))
            failed.append(_identifier(record))
    if records and len(failed) == len(records) and raise_if_all_failed:
        raise BatchFailed(f"all {len(records)} records failed")
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

"""The table's stream → history entries, usage rollups, recorded results (batch, partial failures).

Records of one account must be applied in order, so once a record fails the rest of the batch is reported
failed without being applied, and Lambda redelivers them, in order, from the first failure."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ledger import journal
from ledger.store import table

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class EarlierRecordFailed(Exception):
    """Not applied: a record before it in the batch failed."""


def apply(record: DynamoDBRecord) -> None:
    if processor.fail_messages:
        raise EarlierRecordFailed(record.dynamodb.sequence_number if record.dynamodb else None)
    raw = record.raw_event["dynamodb"]
    keys = table.from_item(raw["Keys"]) or {}
    if keys.get("sk") != table.ACCOUNT_SK or "NewImage" not in raw:
        return
    old, new = table.from_item(raw.get("OldImage")), table.from_item(raw["NewImage"]) or {}
    journal.record(journal.account_id_of(keys["pk"]), old, new)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=apply, processor=processor, context=context)

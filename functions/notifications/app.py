"""The table's stream → notifications on the EventBridge bus (batch, partial failures).

Each record is published on its own: a record whose notifications EventBridge refused is reported failed and
delivered again; the others are not held back. Notification ids are deterministic, so what a redelivery
sends again carries the same ids."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ledger.events import publisher, stream

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def announce(record: DynamoDBRecord) -> None:
    publisher.publish(stream.outgoing(record.raw_event))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=announce, processor=processor, context=context
    )

"""The table's stream → notifications on the EventBridge bus, and auto top-up requests to its queue (batch,
partial failures).

Each record is handled on its own: a record whose notifications EventBridge refused, or whose top-up request
could not be queued, is reported failed and delivered again; the others are not held back. Notification ids
are deterministic, so what a redelivery sends again carries the same ids; a top-up request sent twice starts
one top-up. A record that no retry can help (its images cannot be read, a notification cannot be built from
them) is parked for an operator and the batch goes on."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ledger.events import publisher
from ledger.notifications import stream
from ledger.store import parked
from ledger.usecases import top_up_requests

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def announce(record: DynamoDBRecord) -> None:
    try:
        outgoing = stream.outgoing(record.raw_event)
        request = stream.top_up_request(record.raw_event)
    except Exception as error:
        if parked.is_transient(error):
            raise
        raw = record.raw_event.get("dynamodb") or {}
        ident = str(raw.get("SequenceNumber") or record.event_id)
        parked_id = parked.park("notifications", ident, record.raw_event, error)
        logger.exception("stream record parked: no notification could be made of it", parked=parked_id)
        return
    publisher.publish(outgoing)
    if request is not None:
        top_up_requests.send(request)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=announce, processor=processor, context=context
    )

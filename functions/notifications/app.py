"""The table's stream → notifications on the EventBridge bus, and auto top-up requests to its queue (batch,
partial failures).

Each record is handled on its own: a record whose notifications EventBridge refused, or whose top-up request
could not be queued, is reported failed and delivered again; the others are not held back. Notification ids
are deterministic, so what a redelivery sends again carries the same ids; a top-up request sent twice starts
one top-up. A record that no retry can help (its images cannot be read, a notification cannot be built from
them or is refused for its content) is parked for an operator and the batch goes on."""

from typing import Any

from ledger.events import publisher, top_up_queue
from ledger.notifications import stream
from ledger.runtime.batch import each_record
from ledger.runtime.log import Logger
from ledger.store import parked

logger = Logger()


def announce(record: dict[str, Any]) -> None:
    try:
        outgoing = stream.outgoing(record)
        request = stream.top_up_request(record)
        publisher.publish(outgoing)
        if request is not None:
            top_up_queue.send(request)
    except Exception as error:
        if isinstance(error, publisher.PublishFailed) or parked.is_transient(error):
            raise  # EventBridge or SQS unreachable, throttled or failing some entries: a retry can help
        raw = record.get("dynamodb") or {}
        ident = str(raw.get("SequenceNumber") or record.get("eventID"))
        parked_id = parked.park("notifications", ident, record, error)
        logger.exception(
            "stream record parked: its notifications could not be made or sent", parked=parked_id
        )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return each_record(event, announce)

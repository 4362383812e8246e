"""The table's stream → history entries, usage rollups, recorded results (batch, partial failures).

Records of one account must be applied in order, so once a record fails the rest of the batch is reported
failed without being applied, and Lambda redelivers them, in order, from the first failure. Only a failure a
retry can help (AWS unreachable, throttling) fails a record: a record that cannot be written however often
it is tried (DynamoDB refuses its content, its images do not add up) is parked for an operator, the history
gets an ``unrecorded`` entry in its place, and the stream goes on."""

from datetime import UTC, datetime
from typing import Any

from ledger import journal
from ledger.domain.changes import iso, utcnow
from ledger.runtime.batch import each_record
from ledger.runtime.log import Logger
from ledger.store import changed, parked, schema, table
from ledger.store.schema import SHARD_SK

logger = Logger()


def _created_at(raw: dict[str, Any]) -> str:
    """When the stream saw the write; now when it does not say, or says a moment no date can hold."""
    moment = raw.get("ApproximateCreationDateTime")
    if isinstance(moment, int | float):
        try:
            return iso(datetime.fromtimestamp(moment, UTC))
        except (OverflowError, ValueError, OSError):
            pass
    return iso(utcnow())


postings = journal.Postings()


def apply(record: dict[str, Any]) -> None:
    raw = record.get("dynamodb") or {}
    account_id = old = new = None
    try:
        keys = table.from_item(raw["Keys"]) or {}
        if keys.get("sk") == SHARD_SK:
            postings.post_with(raw)  # a hot account's shard write: posted onto its account item
            return
        if keys.get("sk") != schema.ACCOUNT_SK or "NewImage" not in raw:
            return
        account_id = schema.account_id_of(keys["pk"])
        old, new = table.from_item(raw.get("OldImage")), table.from_item(raw["NewImage"]) or {}
        journal.record(account_id, old, new)
        changed.mark_changed(account_id, utcnow())  # what reconciliation reads (once per account and day)
    except Exception as error:
        if parked.is_transient(error):
            raise
        ident = str(raw.get("SequenceNumber") or record.get("eventID"))
        parked_id = parked.park("journal", ident, record, error, account_id)
        logger.exception("stream record parked: its history could not be written", parked=parked_id)
        if account_id is not None and new is not None:
            journal.record_unwritable(account_id, old, new, parked_id, _created_at(raw))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    postings.gather(event.get("Records", []))
    return each_record(event, apply, in_order=True)

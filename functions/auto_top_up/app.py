"""Auto top-up: start an account's top-up when its balance falls below the threshold.

Two triggers, one function:
- the auto top-up queue (SQS, batch, partial failures): a request per crossing the stream saw;
- the safety-net schedule (EventBridge): accounts below the threshold that no request reached, charges
  stuck in flight, retries after a cooldown. "now" is the schedule's ``time``.

A request whose charge Stripe did not answer fails and comes back after the queue's visibility timeout, when
the top-up in flight is stale and is resumed with the same idempotency key. A message that is no request we
can act on (not one the notifications function writes) is parked for an operator, not retried; the safety
net still finds its account if it is below its threshold."""

from dataclasses import asdict
from typing import Any

from ledger.domain.changes import digest
from ledger.domain.errors import InvalidRequest
from ledger.events.top_up_queue import TopUpRequest
from ledger.runtime.batch import each_record
from ledger.runtime.log import Logger
from ledger.runtime.metrics import add_metric, log_metrics
from ledger.runtime.schedule import scheduled_time
from ledger.store import parked
from ledger.usecases.top_up import top_up_if_due
from ledger.usecases.top_up_net import safety_net

STOP_MARGIN_MS = 15_000

logger = Logger()


def start(record: dict[str, Any]) -> None:
    try:
        request = TopUpRequest.from_json(record.get("body") or "")
        started = top_up_if_due(request.account_id, request.seq)
    except (ValueError, RecursionError, InvalidRequest) as error:  # no retry can make it one we can act on
        ident = str(record.get("messageId") or "body-" + digest(str(record.get("body"))))
        parked_id = parked.park("top_up_queue", ident, record, error)
        logger.error("top-up request parked: it cannot be acted on", parked=parked_id, error=str(error))
        return
    add_metric("TopUpRequests", 1)
    logger.info("top-up request", account_id=request.account_id, seq=request.seq, **asdict(started))


@log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        # a batch that fails whole is reported like a partial failure, not raised: Lambda retries it the same way
        return each_record(event, start, raise_if_all_failed=False)
    report = safety_net(
        scheduled_time(event), has_time=lambda: context.get_remaining_time_in_millis() > STOP_MARGIN_MS
    )
    add_metric("TopUpAccountsLooked", report.looked)
    add_metric("TopUpsStartedBySafetyNet", report.started)
    add_metric("TopUpFailures", report.failed)
    logger.info("safety net", extra=asdict(report))
    return asdict(report)

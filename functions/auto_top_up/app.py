"""Auto top-up: start an account's top-up when its balance falls below the threshold.

Two triggers, one function:
- the auto top-up queue (SQS, batch, partial failures): a request per crossing the stream saw;
- the safety-net schedule (EventBridge): accounts below the threshold that no request reached, charges
  stuck in flight, retries after a cooldown. "now" is the schedule's ``time``.

A request whose charge Stripe did not answer fails and comes back after the queue's visibility timeout, when
the top-up in flight is stale and is resumed with the same idempotency key."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from ledger.usecases.top_up import top_up_if_due
from ledger.usecases.top_up_net import safety_net
from ledger.usecases.top_up_requests import TopUpRequest

STOP_MARGIN_MS = 15_000

logger = Logger()
metrics = Metrics()


class TopUpRequestRecord(SqsRecordModel):
    body: Json[TopUpRequest]


# a batch that fails whole is reported like a partial failure, not raised: Lambda retries it the same way
processor = BatchProcessor(
    event_type=EventType.SQS, model=TopUpRequestRecord, raise_on_entire_batch_failure=False
)


def start(record: TopUpRequestRecord) -> None:
    request = record.body
    started = top_up_if_due(request.account_id, request.seq)
    metrics.add_metric(name="TopUpRequests", unit=MetricUnit.Count, value=1)
    logger.info("top-up request", account_id=request.account_id, seq=request.seq, **asdict(started))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=start, processor=processor, context=context
        )
    scheduled = parse(event=event, model=EventBridgeModel)
    report = safety_net(
        scheduled.time, has_time=lambda: context.get_remaining_time_in_millis() > STOP_MARGIN_MS
    )
    metrics.add_metric(name="TopUpAccountsLooked", unit=MetricUnit.Count, value=report.looked)
    metrics.add_metric(name="TopUpsStartedBySafetyNet", unit=MetricUnit.Count, value=report.started)
    metrics.add_metric(name="TopUpFailures", unit=MetricUnit.Count, value=report.failed)
    logger.info("safety net", extra=asdict(report))
    return asdict(report)

"""Scheduled: expire due grants, release lapsed holds and send due reminders, as of the schedule's time.

"now" is the scheduled event's ``time``, so a run can be replayed for the moment it was meant for. The sweep
stops with ``STOP_MARGIN_MS`` of the invocation left and leaves the rest to the next run."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger.usecases.sweep import sweep

STOP_MARGIN_MS = 15_000

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@event_parser(model=EventBridgeModel)
def handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    report = sweep(event.time, has_time=lambda: context.get_remaining_time_in_millis() > STOP_MARGIN_MS)
    metrics.add_metric(name="AccountsSettled", unit=MetricUnit.Count, value=report.accounts)
    metrics.add_metric(name="CreditsExpired", unit=MetricUnit.Count, value=report.expired)
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=report.reminders)
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="SweepIncomplete", unit=MetricUnit.Count, value=0 if report.complete else 1)
    logger.info("swept", extra=asdict(report))
    return asdict(report)

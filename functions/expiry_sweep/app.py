"""Scheduled: expire due grants, release lapsed holds and send due reminders, as of the schedule's time.

"now" is the scheduled event's ``time``, so a run can be replayed for the moment it was meant for. The sweep
stops with ``STOP_MARGIN_MS`` of the invocation left and leaves the rest to the next run."""

from dataclasses import asdict
from typing import Any

from ledger.runtime.log import Logger
from ledger.runtime.metrics import add_metric, log_metrics
from ledger.runtime.schedule import scheduled_time
from ledger.usecases.sweep import sweep

STOP_MARGIN_MS = 15_000

logger = Logger()


@log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = sweep(
        scheduled_time(event), has_time=lambda: context.get_remaining_time_in_millis() > STOP_MARGIN_MS
    )
    add_metric("AccountsSettled", report.accounts)
    add_metric("CreditsExpired", report.expired)
    add_metric("RemindersSent", report.reminders)
    add_metric("SweepFailures", report.failed)
    add_metric("SweepIncomplete", 0 if report.complete else 1)
    logger.info("swept", extra=asdict(report))
    return asdict(report)

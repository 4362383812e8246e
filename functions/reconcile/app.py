"""Scheduled: reconcile the accounts that changed since the last run, and Stripe's payments of that window,
as of the schedule's time.

Each discrepancy is announced once as ``ledger_drift_detected`` (through the outbox) and counted in the
``DriftDetected`` metric; the run's report is logged. A run that could not read Stripe still checks the ledger,
and says so (``PaymentsUnreconciled``)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger.usecases.reconcile import reconcile_changed

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@event_parser(model=EventBridgeModel)
def handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    report = reconcile_changed(event.time)
    metrics.add_metric(name="AccountsReconciled", unit=MetricUnit.Count, value=report.accounts)
    metrics.add_metric(name="DriftDetected", unit=MetricUnit.Count, value=len(report.drifts))
    metrics.add_metric(name="PaymentsUnreconciled", unit=MetricUnit.Count, value=report.payments is None)
    summary = {
        "accounts": report.accounts,
        "entries_read": report.entries_read,
        "payments": None if report.payments is None else report.payments.intents,
        "purchases": None if report.payments is None else report.payments.purchases,
        "drifts": [d.to_map() for d in report.drifts],
    }
    if report.drifts:
        logger.warning("ledger drift detected", extra=summary)
    else:
        logger.info("reconciled", extra=summary)
    return summary

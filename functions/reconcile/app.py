"""Scheduled: reconcile the accounts that changed since the last run, and Stripe's payments of that window,
as of the schedule's time.

Each discrepancy is announced once as ``ledger_drift_detected`` (through the outbox) and counted in the
``DriftDetected`` metric; the run's report is logged. A run that could not read Stripe still checks the ledger,
and says so (``PaymentsUnreconciled``)."""

from typing import Any

from ledger.runtime.log import Logger
from ledger.runtime.metrics import add_metric, log_metrics
from ledger.runtime.schedule import scheduled_time
from ledger.usecases.reconcile import reconcile_changed

logger = Logger()


@log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = reconcile_changed(scheduled_time(event))
    add_metric("AccountsReconciled", report.accounts)
    add_metric("DriftDetected", len(report.drifts))
    add_metric("PaymentsUnreconciled", report.payments is None)
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

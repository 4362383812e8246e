"""The expiry sweep: settle every account with something due and send every reminder that is due.

It reads only the sparse ``due`` index (``due_pk = "DUE"``, ``due <= now``): accounts whose grant or hold
expiry has come (``sk = "A"``) and reminders whose moment has come (``R#...``), oldest first, page by page.
Each account is settled by ``settle_due`` (conditioned on the account's seq, idempotent per grant) and each
reminder is sent at most once, so a rerun, or two sweeps at once, expire and remind nothing twice. It stops
when ``time_left`` says so and leaves the rest, still due, to the next run. A failure on one account is
logged and counted, and the sweep goes on with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import LedgerError
from ledger.runtime.log import Logger
from ledger.store import schema
from ledger.store.due import due_keys
from ledger.store.schema import REMINDER_PREFIX
from ledger.store.table import DynamoDBError
from ledger.usecases.expire import settle_due
from ledger.usecases.reminders import send_reminder

PAGE_SIZE = 100

logger = Logger()


@dataclass
class SweepReport:
    accounts: int = 0  # accounts settled
    expired: int = 0  # credits expired
    released: int = 0  # credits of lapsed holds released
    reminders: int = 0  # reminders sent
    failed: int = 0  # accounts or reminders that failed (retried by the next run)
    complete: bool = True  # False: stopped for time, the rest is left to the next run


def sweep(now: datetime, has_time: Callable[[], bool] = lambda: True) -> SweepReport:
    report = SweepReport()
    for account_id, sk in due_keys(now, PAGE_SIZE):
        if not has_time():
            report.complete = False
            break
        try:
            if sk == schema.ACCOUNT_SK:
                settled = settle_due(account_id, now)
                report.accounts += 1
                report.expired += settled.expired
                report.released += settled.released
            elif sk.startswith(REMINDER_PREFIX) and send_reminder(account_id, sk, now):
                report.reminders += 1
        except (LedgerError, DynamoDBError):
            logger.exception("could not settle what is due", extra={"account_id": account_id, "sk": sk})
            report.failed += 1
    return report

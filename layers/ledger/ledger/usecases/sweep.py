"""The expiry sweep: settle every account with something due and send every reminder that is due.

It reads only the sparse ``due`` index (``due_pk = "DUE"``, ``due <= now``): accounts whose grant or hold
expiry has come (``sk = "A"``) and reminders whose moment has come (``R#...``), oldest first, page by page.
Each account is settled by ``settle_due`` (conditioned on the account's seq, idempotent per grant) and each
reminder is sent at most once, so a rerun, or two sweeps at once, expire and remind nothing twice. It stops
when ``time_left`` says so and leaves the rest, still due, to the next run. A failure on one account is
logged and counted, and the sweep goes on with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ledger.domain.changes import epoch
from ledger.domain.errors import LedgerError
from ledger.journal import account_id_of
from ledger.runtime.log import Logger
from ledger.store import table
from ledger.usecases.expire import settle_due
from ledger.usecases.reminders import REMINDER_PREFIX, send_reminder

DUE_INDEX = "due"
PAGE_SIZE = 100

logger = Logger(child=True)


@dataclass
class SweepReport:
    accounts: int = 0  # accounts settled
    expired: int = 0  # credits expired
    released: int = 0  # credits of lapsed holds released
    reminders: int = 0  # reminders sent
    failed: int = 0  # accounts or reminders that failed (retried by the next run)
    complete: bool = True  # False: stopped for time, the rest is left to the next run


def due_keys(now: datetime) -> Iterator[tuple[str, str]]:
    """(account id, sort key) of every item due by ``now``, oldest first, one page at a time."""
    kwargs: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": DUE_INDEX,
        "KeyConditionExpression": "due_pk = :pk AND #due <= :now",
        "ExpressionAttributeNames": {"#due": "due"},
        "ExpressionAttributeValues": table.to_item({":pk": table.DUE_PK, ":now": epoch(now)}),
        "Limit": PAGE_SIZE,
    }
    while True:
        page = table.client().query(**kwargs)
        for raw in page.get("Items", []):
            key = table.from_item(raw) or {}
            yield account_id_of(key["pk"]), key["sk"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sweep(now: datetime, has_time: Callable[[], bool] = lambda: True) -> SweepReport:
    report = SweepReport()
    for account_id, sk in due_keys(now):
        if not has_time():
            report.complete = False
            break
        try:
            if sk == table.ACCOUNT_SK:
                settled = settle_due(account_id, now)
                report.accounts += 1
                report.expired += settled.expired
                report.released += settled.released
            elif sk.startswith(REMINDER_PREFIX) and send_reminder(account_id, sk, now):
                report.reminders += 1
        except (LedgerError, ClientError):
            logger.exception("could not settle what is due", extra={"account_id": account_id, "sk": sk})
            report.failed += 1
    return report

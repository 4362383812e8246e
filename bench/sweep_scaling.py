"""The expiry sweep against table size: the same number of due grants among 1k, 10k and 100k accounts.

Every account holds a grant with an expiry, so every one is in the sparse ``due`` index, but only ``due`` of them
are due. The accounts are copies of two accounts (account item and grant item) the real code wrote (one expiring in 90 days, one
expired an hour ago), put with BatchWriteItem into a single-threaded moto server: in-process moto copies the
whole table on every transaction, which at 100k items costs seconds per settled account. The table grows from
one size to the next; the due accounts are written again before each sweep. Only the sweep is measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from bench.capture import Capture
from bench.costs import Side
from bench.fill import account_items, copies, put, served_table
from bench.operations import expired_grant, schedule
from bench.stage import invoke_as_deployed
from ledger.store import table as ledger_table
from ledger.store.schema import ACCOUNT_SK


@dataclass
class SweepRow:
    accounts: int
    due: int  # due grants, one per due account
    side: Side
    index_items: int  # due-index entries the sweep's Query read
    grant_items: int  # grant items its settlements read (the due grants and the first live one after them)
    account_items: int  # account items it read to settle them
    settled: int  # accounts the sweep reported settled

    @property
    def per_due_grant(self) -> float:
        return self.side.items_read / self.due


def _model(db: Any, account: str, write: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The account item and its grant items, as the real code wrote them."""
    write(account)
    return [
        i for i in account_items(db, account) if i["sk"]["S"] == ACCOUNT_SK or i["sk"]["S"].startswith("G#")
    ]


def _copies(db: Any, model: list[dict[str, Any]], prefix: str, start: int, end: int) -> None:
    """Accounts ``prefix-start`` .. ``prefix-(end-1)``, each a copy of ``model``'s account and grant items."""
    put(db, copies(model, (f"{prefix}-{i}" for i in range(start, end))))


def measure(sizes: list[int], due: int, progress: Callable[[str], None] = lambda _: None) -> list[SweepRow]:
    rows = []
    now = datetime.now(UTC)
    with served_table() as db:
        later = now + timedelta(days=90)
        live = _model(
            db, "live-0", lambda a: ledger.grant(a, 1_000, "promotional", "promo", expires_at=later)
        )
        expired = _model(db, "due-0", expired_grant)
        capture = Capture(ledger_table.client(), side=db)
        have = 1  # live accounts so far
        for accounts in sizes:
            progress(f"sweep with {accounts:,} accounts")
            _copies(db, live, "live", have, accounts - due)
            have = max(have, accounts - due)
            _copies(db, expired, "due", 0, due)
            with capture.active():
                report = invoke_as_deployed("expiry_sweep", schedule(now))
            calls = capture.take()
            if (report["accounts"], report["failed"], report["complete"]) != (due, 0, True) or not report[
                "expired"
            ]:
                raise RuntimeError(
                    f"the sweep of {accounts:,} accounts did other work than measured: {report}"
                )
            rows.append(
                SweepRow(
                    accounts=accounts,
                    due=due,
                    side=Side.of(calls),
                    index_items=sum(c.items_read for c in calls if c.request.get("IndexName")),
                    grant_items=sum(
                        c.items_read
                        for c in calls
                        if c.operation == "Query" and not c.request.get("IndexName")
                    ),
                    account_items=sum(c.items_read for c in calls if c.operation == "GetItem"),
                    settled=report["accounts"],
                )
            )
    return rows

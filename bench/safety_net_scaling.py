"""The auto top-up safety net against table size: accounts with auto top-up on, 1% of them below their threshold,
then accounts without auto top-up added around them.

The safety net reads the sparse ``top_up`` index (every account with auto top-up on), a page at a time, and the
figures of each page's accounts in one BatchGetItem; then it starts the top-up of those below the threshold
(claim, off-session charge at localstripe, outcome). Its look is counted apart from the top-ups it starts, per
account with auto top-up on. The accounts are copies of the items the real code wrote (the settings route, a
grant, a debit), put with BatchWriteItem into a single-threaded moto server; the accounts below the threshold are
written again before each run, since the run tops them up. The run is given an hour: its requests, not its
time, are measured, and moto serves them far slower than DynamoDB.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ledger
from bench.capture import Call, Capture
from bench.costs import Side
from bench.fill import account_items, copies, delete, put, served_table
from bench.operations import schedule
from bench.stage import stripe_stack
from credits_local.functions import LambdaContext
from devkit.lambdas import invoke
from devkit.top_up import enable
from ledger.store import table as ledger_table


def is_look(call: Call) -> bool:
    """The safety net's own reads (the index's pages, the accounts' figures); everything else starts a top-up,
    its Query of the account and its auto top-up item included."""
    return call.operation == "BatchGetItem" or (call.operation == "Query" and "IndexName" in call.request)


HOUR_MS = 3_600_000
BELOW = 0.01  # the share of accounts with auto top-up on that are below their threshold


@dataclass
class NetRow:
    accounts: int  # in the table
    enabled: int  # of which with auto top-up on
    below: int  # of which below their threshold
    look: Side  # the index pages and the account figures
    index_items: int
    account_items: int
    started: int  # top-ups the run started
    start: Side  # the DynamoDB requests of starting them: reads, claim, outcome
    stripe_round_trips: int

    @property
    def items_per_enabled(self) -> float:
        return self.look.items_read / self.enabled

    @property
    def read_units_per_enabled(self) -> float:
        return self.look.read_units / self.enabled


def _model(db: Any, account: str, write: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The items of an account the real code wrote."""
    write(account)
    # the account and its auto top-up settings
    return [i for i in account_items(db, account) if i["sk"]["S"] in ("A", "AT")]


def _copies(db: Any, model: list[dict[str, Any]], prefix: str, start: int, end: int) -> None:
    put(db, copies(model, (f"{prefix}-{i}" for i in range(start, end))))


def _on(balance: int, spend: int = 0) -> Callable[[str], None]:
    def write(account: str) -> None:
        ledger.grant(account, balance, "promotional", "welcome")
        enable(account, threshold=100, amount=1_000, payment_method_id="pm_card_visa")
        if spend:
            ledger.debit(account, spend, "render", "crossing")

    return write


def measure(steps: list[tuple[int, int]], progress: Callable[[str], None] = lambda _: None) -> list[NetRow]:
    """``steps``: (accounts with auto top-up on, accounts in all), each step adding to the table of the one
    before."""
    rows = []
    with stripe_stack() as stripe, served_table({"STRIPE_API_BASE": stripe.url}) as db:
        above = _model(db, "on-0", _on(500))
        below = _model(db, "low-0", _on(500, spend=450))
        off = _model(db, "off", lambda a: ledger.grant(a, 500, "promotional", "welcome"))
        # a model only: the accounts without auto top-up are its copies
        delete(db, ({k: i[k] for k in ("pk", "sk")} for i in off))
        capture = Capture(ledger_table.client(), side=db)
        have_on, have_off = 1, 0  # on-0 (low-0, the other model, is written again below)
        for enabled, accounts in steps:
            progress(f"auto top-up safety net: {enabled:,} of {accounts:,} accounts with auto top-up on")
            due = max(1, round(enabled * BELOW))
            _copies(db, above, "on", have_on, enabled - due)
            have_on = max(have_on, enabled - due)
            _copies(db, off, "off", have_off, accounts - enabled)
            have_off = max(have_off, accounts - enabled)
            _copies(db, below, "low", 0, due)
            sent = len(stripe.requests)
            with capture.active(), redirect_stdout(io.StringIO()):
                # time enough for moto, far slower than DynamoDB, to serve every top-up the run starts
                report = invoke(
                    "auto_top_up", schedule(datetime.now(UTC)), LambdaContext(remaining_ms=HOUR_MS)
                )
            calls = capture.take()
            if (report["looked"], report["started"], report["failed"], report["complete"]) != (
                enabled,
                due,
                0,
                True,
            ):
                raise RuntimeError(f"the safety net over {accounts:,} accounts did other work: {report}")
            look = [c for c in calls if is_look(c)]
            rows.append(
                NetRow(
                    accounts=accounts,
                    enabled=enabled,
                    below=due,
                    look=Side.of(look),
                    index_items=sum(c.items_read for c in look if c.operation == "Query"),
                    account_items=sum(c.items_read for c in look if c.operation == "BatchGetItem"),
                    started=report["started"],
                    start=Side.of([c for c in calls if not is_look(c)]),
                    stripe_round_trips=len(stripe.requests) - sent,
                )
            )
    return rows

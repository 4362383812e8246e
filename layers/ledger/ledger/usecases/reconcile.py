"""Reconcile: check accounts against the rules of domain/reconcile.py and announce each discrepancy once.

``reconcile_account`` checks one account; ``full`` walks its whole history, otherwise the walk starts where
the last clean walk stopped (a checkpoint item ``sk = "RC"``: seq, balance, held), so a scheduled run reads
each changed account's new entries only. ``reconcile_changed`` checks the accounts the journal marked
changed (store/changed.py) on each day since the last run (``pk = RECONCILE, sk = RUN``), so its cost grows
with the accounts that changed, never with the table.

Every discrepancy becomes a ``ledger_drift_detected`` notification through the outbox, with an id made of
what was found: the same discrepancy found by later runs writes the same outbox item, which is published
once (again only after the outbox item's TTL, a week, if it is still there).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.changes import epoch, utcnow
from ledger.domain.errors import PaymentProviderError
from ledger.domain.reconcile import Checked, Drift, EntryWalk, check_account
from ledger.events.models import LedgerDriftDetected
from ledger.events.outbox import notification_put
from ledger.journal import UNRECORDED
from ledger.store import entries, schema, table
from ledger.store.account_item import parse_account
from ledger.store.batches import changes_of
from ledger.store.changed import changed_on
from ledger.store.grants import all_grants, sk_of
from ledger.store.holds import open_holds
from ledger.store.results import get_account_item
from ledger.store.schema import CHECKPOINT_SK, RUN_PK, RUN_SK
from ledger.store.writes import transact
from ledger.usecases.reconcile_payments import PaymentsReport, reconcile_payments

JOURNAL_GRACE = timedelta(minutes=5)  # the journal writes an entry seconds after its write
PAYMENT_GRACE = timedelta(hours=1)  # Stripe delivers a payment's webhook within seconds, retries for days
DEFAULT_SWEEP_SECONDS = 86_400
FIRST_RUN_DAYS = 1  # a run with no run before it looks at today and yesterday


@dataclass
class AccountReport:
    account_id: str
    entries_read: int
    drifts: list[Drift]


@dataclass
class RunReport:
    accounts: int = 0
    entries_read: int = 0
    drifts: list[Drift] = field(default_factory=list)
    announced: int = 0
    payments: PaymentsReport | None = None  # None: Stripe could not be read (the ledger's checks still ran)


def sweep_grace() -> int:
    """How long past its expiry a grant or hold may stay unsettled: two periods of the sweep's schedule
    (``EXPIRY_SWEEP_SCHEDULE``, a rate expression; a cron schedule counts as daily)."""
    found = re.fullmatch(
        r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", os.environ.get("EXPIRY_SWEEP_SCHEDULE", "")
    )
    if not found:
        return 2 * DEFAULT_SWEEP_SECONDS
    unit = {"minute": 60, "hour": 3600, "day": 86_400}[found.group(2).rstrip("s")]
    return 2 * int(found.group(1)) * unit


def _checkpoint(account_id: str) -> Checked:
    item = table.get_item(account_id, CHECKPOINT_SK) or {}
    return Checked(item.get("seq", 0), item.get("balance", 0), item.get("held", 0))


def _latest_change_at(account_id: str, item: dict[str, Any]) -> datetime | None:
    """When the account's latest write happened (its changes' time), None for an account never written."""
    created = [c.created_at for c in changes_of(account_id, item)] if item.get("last") else []
    return datetime.fromisoformat(max(created).replace("Z", "+00:00")) if created else None


def reconcile_account(
    account_id: str,
    now: datetime | None = None,
    full: bool = False,
    grace: int | None = None,
    record: bool = True,
) -> AccountReport:
    """Check one account (``grace``: how long an expiry may wait for the sweep, default ``sweep_grace()``;
    ``record``: move its checkpoint past a clean walk)."""
    now = now or utcnow()
    item = get_account_item(account_id) or {}
    account = parse_account(account_id, item)
    start = Checked() if full else _checkpoint(account_id)
    walk = EntryWalk(account_id, start)
    read = 0
    for entry in entries.after_items(entries.layout_of(account_id, item), start.seq, consistent=True):
        read += 1
        walk.add(
            entry.get("seq", 0),
            entry.get("amount", 0),
            entry.get("balance_after"),
            entry.get("held_after"),
            entry["sk"],
            unrecorded=entry.get("type") == UNRECORDED,
        )
    latest = _latest_change_at(account_id, item)
    settled = latest is None or now - latest >= JOURNAL_GRACE
    grants = [(sk_of(g), g.remaining, g.expires_at) for g in all_grants(account)]
    holds = [
        (schema.hold_expiry_sk(h.expires_at, h.id), h.amount, h.expires_at) for h in open_holds(account_id)
    ]
    drifts = walk.drifts + check_account(
        account, walk.at, grants, holds, epoch(now), sweep_grace() if grace is None else grace, settled
    )
    if record and not walk.drifts and walk.at.seq > start.seq:
        table.client().put_item(
            TableName=table.table_name(),
            Item=table.to_item(
                {
                    "pk": schema.account_pk(account_id),
                    "sk": CHECKPOINT_SK,
                    "seq": walk.at.seq,
                    "balance": walk.at.balance,
                    "held": walk.at.held,
                    "at": epoch(now),
                }
            ),
        )
    return AccountReport(account_id, read, drifts)


def announce(drifts: list[Drift], now: datetime) -> int:
    """One outbox item per discrepancy (the same discrepancy always the same item)."""
    for drift in drifts:
        detail = LedgerDriftDetected(
            account_id=drift.account_id,
            kind=drift.kind,
            message=drift.message,
            expected=_plain(drift.expected),
            found=_plain(drift.found),
            items=list(drift.items[:20]),
        )
        transact([notification_put(drift.account_id, LedgerDriftDetected.name, detail, now)])
    return len(drifts)


def _plain(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def reconcile_changed(
    now: datetime | None = None,
    since: datetime | None = None,
    payments: bool = True,
    on_demand: bool = False,
) -> RunReport:
    """Check every account changed since ``since`` (default: the last run) and, with ``payments``, Stripe's
    payments of the same window (an hour behind, for the webhooks in flight); announce each discrepancy.
    ``on_demand``: an operator's run: whole histories, and nothing written (no checkpoint, no announcement,
    the scheduled run's own window untouched)."""
    now = now or utcnow()
    run = table.from_item(
        table.client()
        .get_item(
            TableName=table.table_name(), Key=table.to_item({"pk": RUN_PK, "sk": RUN_SK}), ConsistentRead=True
        )
        .get("Item")
    )
    if since is None:
        since = datetime.fromtimestamp(run["at"], now.tzinfo) if run else now - timedelta(days=FIRST_RUN_DAYS)
    report, seen = RunReport(), set[str]()
    day = since.date()
    while day <= now.date():
        for account_id in changed_on(day):
            if account_id in seen:
                continue
            seen.add(account_id)
            checked = reconcile_account(account_id, now, full=on_demand, record=not on_demand)
            report.accounts += 1
            report.entries_read += checked.entries_read
            report.drifts += checked.drifts
        day += timedelta(days=1)
    try:
        if payments:
            report.payments = reconcile_payments(since - PAYMENT_GRACE, now - PAYMENT_GRACE, seen)
            report.drifts += report.payments.drifts
    except PaymentProviderError:
        report.payments = None
    if on_demand:
        return report
    report.announced = announce(report.drifts, now)
    table.client().put_item(
        TableName=table.table_name(), Item=table.to_item({"pk": RUN_PK, "sk": RUN_SK, "at": epoch(now)})
    )
    return report

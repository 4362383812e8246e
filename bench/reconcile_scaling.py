"""Reconciliation against table size: the same changed accounts among 1k, 10k and 100k, then Stripe's side.

The changed accounts are copies of one account the real code wrote (a grant, 20 debits, a hold; its history
written by the journal), each marked changed today as the journal marks them; every other account is a copy
of its account item only (reconciliation never reads it, which is the point). Put with BatchWriteItem into a
single-threaded moto server. Each size is reconciled twice: the first run walks each changed account's whole
history (no checkpoint yet), the second finds nothing new past the checkpoints (a run after a quiet day).
The number of changed accounts is the same at every size (``changed``), not 1% of it: the single-threaded moto
server copies what it answers and reads a whole index for an index Query, so a thousand changed accounts among
100k would take long to serve; what a changed account costs does not depend on how many others changed.

Then the payments: purchases paid at localstripe and credited by the webhook, reconciled both ways over their
window; Stripe's round trips are counted by the recording proxy, per payment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe as stripe_module

import ledger
from bench.capture import Capture
from bench.costs import Side
from bench.fill import account_items, copies, delete, put, served_table
from bench.stage import TABLE, stripe_stack
from devkit.payments import pay, start_purchase, webhook
from devkit.stream import StreamPump
from ledger.store import changed
from ledger.store import table as ledger_table
from ledger.store.schema import ACCOUNT_SK
from ledger.usecases.reconcile import reconcile_changed
from ledger.usecases.reconcile_payments import reconcile_payments

DEBITS = 20


@dataclass
class ReconcileRow:
    accounts: int
    changed: int
    look: Side  # finding the changed accounts: the day's marker partitions, the run's own item
    first: Side  # the changed accounts, first run: whole histories
    again: Side  # the changed accounts, next run: nothing new past the checkpoints
    entries_per_account: int


@dataclass
class PaymentsRow:
    payments: int
    stripe_round_trips: int
    dynamodb: Side

    @property
    def stripe_per_payment(self) -> float:
        return self.stripe_round_trips / self.payments


def _model(db: Any, account: str) -> list[dict[str, Any]]:
    ledger.grant(account, 10_000, "purchase", "g")
    for i in range(DEBITS):
        ledger.debit(account, 10 + i, "render", f"d{i}")
    ledger.place_hold(account, 50, "h", expires_in_seconds=86_400)
    StreamPump(TABLE, endpoint_url=db.meta.endpoint_url).pump()
    return account_items(db, account)


def _copies(db: Any, model: list[dict[str, Any]], names: list[str], only_account: bool) -> None:
    put(db, copies([i for i in model if i["sk"]["S"] == ACCOUNT_SK] if only_account else model, names))


def measure(
    sizes: list[int], changed_accounts: int, progress: Callable[[str], None] = lambda _: None
) -> list[ReconcileRow]:
    rows = []
    now = datetime.now(UTC)
    with served_table() as db:
        model = _model(db, "model")
        _unmark(db, ["model"], now)  # a model only
        entries = sum(1 for i in model if i["sk"]["S"].startswith("E#"))
        capture = Capture(ledger_table.client(), side=db)
        have = 0
        for accounts in sizes:
            progress(f"reconcile with {accounts:,} accounts")
            busy = changed_accounts
            _copies(db, model, [f"quiet-{i}" for i in range(have, accounts - busy)], only_account=True)
            have = max(have, accounts - busy)
            names = [f"busy-{accounts}-{i}" for i in range(busy)]
            _copies(db, model, names, only_account=False)
            changed.forget_marks()
            for name in names:
                changed.mark_changed(name, now)
            runs = []
            for run in range(2):
                with capture.active():
                    report = reconcile_changed(now + timedelta(minutes=10 + run), now, payments=False)
                calls = capture.take()
                if report.accounts != busy or report.drifts:
                    raise RuntimeError(f"reconciling {accounts:,} accounts did other work: {report}")
                runs.append(calls)
            rows.append(
                ReconcileRow(
                    accounts,
                    busy,
                    Side.of([c for c in runs[0] if not _per_account(c)]),
                    Side.of([c for c in runs[0] if _per_account(c)]),
                    Side.of([c for c in runs[1] if _per_account(c)]),
                    entries,
                )
            )
            # the next size's run must not find this size's accounts again
            _unmark(db, names, now)
    return rows


def _per_account(call: Any) -> bool:
    """A request about one account (its items, whatever the request calls its key's placeholder: the history
    is read with ``:p``), not about finding the changed accounts (the marker partitions, the run's item)."""
    return _names_an_account(call.request)


def _names_an_account(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_names_an_account(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_an_account(v) for v in value)
    return isinstance(value, str) and value.startswith("ACCOUNT#")


def _unmark(db: Any, names: list[str], now: datetime) -> None:
    day = now.date().isoformat()
    delete(db, ({"pk": {"S": changed.marker_pk(day, name)}, "sk": {"S": name}} for name in names))


def measure_payments(payments: int, progress: Callable[[str], None] = lambda _: None) -> PaymentsRow:
    progress(f"reconcile {payments} payments against Stripe")
    with stripe_stack() as stripe, served_table({"STRIPE_API_BASE": stripe.url}) as db:
        client = stripe_module.StripeClient(os.environ["STRIPE_API_KEY"], base_addresses={"api": stripe.url})
        start = datetime.now(UTC) - timedelta(minutes=1)
        for i in range(payments):
            made = start_purchase("payer", package_id="credits-1000")
            intent = pay(client, made["payment_intent_id"])
            status, _ = webhook("payment_intent.succeeded", intent)
            if status != 200:
                raise RuntimeError(f"payment {i} was not credited")
        StreamPump(TABLE, endpoint_url=db.meta.endpoint_url).pump()
        capture = Capture(ledger_table.client(), side=db)
        sent = len(stripe.requests)
        with capture.active():
            report = reconcile_payments(start, datetime.now(UTC) + timedelta(minutes=1), ["payer"])
        if report.drifts or report.intents != payments or report.purchases != payments:
            raise RuntimeError(f"reconciling {payments} payments did other work: {report}")
        return PaymentsRow(payments, len(stripe.requests) - sent, Side.of(capture.take()))

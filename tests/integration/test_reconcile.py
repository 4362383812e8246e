"""Reconciliation: nothing to report on a ledger that went through every kind of write, and exactly the
discrepancy planted otherwise, each announced once; a scheduled run reads only the accounts that changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import ledger
from credits_local.functions import LambdaContext
from devkit.bus import Notifications
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from ledger import journal as ledger_journal
from ledger.store import table as ledger_table
from ledger.usecases.reconcile import reconcile_account, reconcile_changed

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def journal(fresh_journal: StreamPump) -> StreamPump:
    return fresh_journal


def busy_account(account: str, journal: StreamPump) -> None:
    """An account through grants, an expiry, debits, a batch, holds, a capture, a release, adjustments."""
    start = NOW - timedelta(days=3)
    ledger.grant(account, 500, "purchase", "g1", now=start)
    ledger.grant(account, 200, "promotional", "g2", expires_at=start + timedelta(days=1), now=start)
    ledger.debit(account, 120, "render", "d1", now=start)
    ledger.debit_many(
        [
            {"account_id": account, "amount": 10 + i, "operation": "tokens", "idempotency_key": f"b{i}"}
            for i in range(5)
        ],
        now=start + timedelta(hours=1),
    )
    hold, _ = ledger.place_hold(account, 80, "h1", now=start + timedelta(hours=2))
    ledger.capture_hold(account, hold.hold_id, 50, now=start + timedelta(hours=2))
    other, _ = ledger.place_hold(account, 30, "h2", now=start + timedelta(hours=2))
    ledger.release_hold(account, other.hold_id, now=start + timedelta(hours=2))
    ledger.place_hold(account, 25, "lapses", expires_in_seconds=3600, now=start + timedelta(hours=2))
    ledger.settle_due(
        account, start + timedelta(days=2)
    )  # the promotional grant's rest expires, a hold lapses
    ledger.adjust(account, -15, "double-counted job", "a1", now=start + timedelta(days=2))
    ledger.adjust(account, 40, "goodwill", "a2", now=start + timedelta(days=2))
    ledger.place_hold(account, 20, "open", expires_in_seconds=86_400, now=NOW - timedelta(hours=1))
    journal.pump()


def kinds(account: str, **kwargs: Any) -> list[str]:
    return sorted(d.kind for d in reconcile_account(account, NOW, full=True, **kwargs).drifts)


def test_a_busy_account_reconciles_clean(journal: StreamPump) -> None:
    busy_account("acme", journal)
    report = reconcile_account("acme", NOW, full=True)
    assert report.drifts == []
    assert report.entries_read == ledger.balance_card("acme", now=NOW).account.seq


def item(account: str, sk: str) -> dict[str, Any]:
    found = ledger_table.get_item(account, sk)
    assert found is not None
    return found


def put(values: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=ledger_table.table_name(), Item=ledger_table.to_item(values))


def entry_key(account: str, seq: int) -> dict[str, Any]:
    return ledger_table.to_item({"pk": ledger_table.account_pk(account), "sk": ledger_table.entry_sk(seq)})


def delete_entry(account: str) -> None:
    boto3.client("dynamodb").delete_item(TableName=ledger_table.table_name(), Key=entry_key(account, 3))


def change_amount(account: str) -> None:
    entry = item(account, ledger_table.entry_sk(3))
    put({**entry, "amount": entry["amount"] - 1})


def change_held(account: str) -> None:
    put({**item(account, "A"), "held": item(account, "A")["held"] + 5})


def change_grant(account: str) -> None:
    [grant] = [
        g
        for g in boto3.client("dynamodb").query(
            TableName=ledger_table.table_name(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :g)",
            ExpressionAttributeValues=ledger_table.to_item(
                {":pk": ledger_table.account_pk(account), ":g": "G#"}
            ),
        )["Items"]
        if ledger_table.from_item(g)["source"] == "purchase"
    ]
    plain = ledger_table.from_item(grant) or {}
    put({**plain, "remaining": plain["remaining"] + 7})


def change_lifetime(account: str) -> None:
    put({**item(account, "A"), "lifetime_spent": item(account, "A")["lifetime_spent"] + 1})


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (delete_entry, ["entry_missing", "running_balance"]),
        (change_amount, ["running_balance"]),
        (change_held, ["balance_vs_history", "held_vs_holds"]),
        (change_grant, ["balance_vs_grants"]),
        (change_lifetime, ["lifetime_figures"]),
    ],
    ids=["deleted-entry", "changed-amount", "held-total", "grant-remainder", "lifetime-figure"],
)
def test_each_planted_discrepancy_is_reported_and_nothing_else(
    journal: StreamPump, plant: Callable[[str], None], expected: list[str]
) -> None:
    busy_account("acme", journal)
    plant("acme")
    assert kinds("acme") == expected


def test_a_grant_past_its_expiry_longer_than_the_sweep_allows(
    journal: StreamPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPIRY_SWEEP_SCHEDULE", "rate(1 hour)")
    ledger.grant(
        "acme",
        100,
        "promotional",
        "g",
        expires_at=NOW - timedelta(hours=1, minutes=59),
        now=NOW - timedelta(days=1),
    )
    journal.pump()
    assert kinds("acme") == []  # within two sweep periods
    ledger.grant(
        "acme",
        100,
        "promotional",
        "late",
        expires_at=NOW - timedelta(hours=2, minutes=1),
        now=NOW - timedelta(days=1),
    )
    journal.pump()
    [drift] = reconcile_account("acme", NOW, full=True).drifts
    assert (drift.kind, len(drift.items)) == ("expiry_unsettled", 1)
    ledger.settle_due("acme", NOW)  # the sweep catches up: nothing left to report
    journal.pump()
    assert kinds("acme") == []


def test_a_history_behind_the_account_is_drift_only_once_the_journal_had_time(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g", now=NOW - timedelta(minutes=1))
    assert kinds("acme") == []  # the journal has not run: a minute is not long
    later = NOW + timedelta(minutes=10)
    assert [d.kind for d in reconcile_account("acme", later, full=True).drifts] == ["history_behind"]
    journal.pump()
    assert reconcile_account("acme", later, full=True).drifts == []


def test_a_scheduled_run_reads_only_changed_accounts_and_announces_each_discrepancy_once(
    journal: StreamPump,
) -> None:
    notifications = Notifications(ledger_table.table_name())
    for account in ("quiet-1", "quiet-2", "busy"):
        ledger.grant(account, 100, "purchase", "g", now=NOW - timedelta(days=5))
    journal.pump()
    # the journal marks the day it runs (today); each run looks back a day, whatever the hour
    since = NOW - timedelta(days=1)
    first = reconcile_changed(NOW, since)
    assert (first.accounts, first.drifts) == (3, [])
    ledger.debit("busy", 10, "render", "d1", now=NOW)
    journal.pump()
    second = reconcile_changed(NOW + timedelta(hours=1), since)
    # the checkpoints: each account's history is read from where the last clean run stopped
    assert (second.accounts, second.entries_read, second.drifts) == (3, 1, [])
    change_lifetime("busy")
    third = reconcile_changed(NOW + timedelta(hours=2), since)
    fourth = reconcile_changed(NOW + timedelta(hours=3), since)
    assert [d.kind for d in third.drifts] == [d.kind for d in fourth.drifts] == ["lifetime_figures"]
    published = [e for e in notifications.pump() if e["detail-type"] == "ledger_drift_detected"]
    assert len(published) == 1
    detail = published[0]["detail"]
    assert (detail["account_id"], detail["kind"], detail["expected"], detail["found"]) == (
        "busy",
        "lifetime_figures",
        "90",
        "89",
    )


def test_the_scheduled_function_reports_and_counts_drift(
    journal: StreamPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPIRY_SWEEP_SCHEDULE", "rate(1 hour)")
    ledger.grant(
        "acme", 100, "promotional", "g", expires_at=NOW - timedelta(hours=3), now=NOW - timedelta(days=1)
    )
    journal.pump()
    event = {
        "version": "0",
        "id": "e",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": NOW.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    summary = invoke("reconcile", event, LambdaContext(remaining_ms=900_000))
    assert summary["accounts"] == 1
    assert [d["kind"] for d in summary["drifts"]] == ["expiry_unsettled"]


def test_a_write_the_journal_could_not_record_is_reported_as_unrecorded(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "purchase", "g", now=NOW - timedelta(hours=1))
    journal.pump()
    old = item("acme", "A")
    ledger.debit("acme", 30, "render", "d1", now=NOW - timedelta(hours=1))
    # as the journal does with a record no retry can write: one marker entry in its place, parked
    ledger_journal.record_unwritable(
        "acme", old, item("acme", "A"), "journal#1", (NOW - timedelta(hours=1)).isoformat()
    )
    [drift] = reconcile_account("acme", NOW, full=True).drifts
    assert (drift.kind, drift.expected, drift.found) == ("history_unrecorded", 2, 2)

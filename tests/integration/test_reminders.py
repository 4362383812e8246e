"""Expiring-soon reminders: once per grant and reminder day, with the remainder then, only while there is one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from devkit.bus import Notifications
from ledger.store import table as ledger_table
from ledger.usecases.sweep import sweep
from tests.conftest import TABLE

START = datetime(2026, 1, 1, tzinfo=UTC)
EXPIRY = START + timedelta(days=40)


def before_expiry(days: int) -> datetime:
    return EXPIRY - timedelta(days=days)


@pytest.fixture
def notifications(aws: None) -> Notifications:
    return Notifications(TABLE)


def reminders(notifications: Notifications) -> list[dict[str, Any]]:
    return [e["detail"] for e in notifications.pump() if e["detail-type"] == "credits_expiring"]


def reminder_items(account: str) -> list[str]:
    response = ledger_table.client().query(
        TableName=ledger_table.table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :r)",
        ExpressionAttributeValues=ledger_table.to_item({":pk": ledger_table.account_pk(account), ":r": "R#"}),
    )
    return [item["sk"]["S"] for item in response["Items"]]


def test_each_reminder_day_once_with_the_remainder_at_that_moment(notifications: Notifications) -> None:
    made = ledger.grant("acme", 500, "promotional", "promo", expires_at=EXPIRY, now=START)
    ledger.debit("acme", 100, "render", "d1", now=START)
    assert sweep(before_expiry(30) - timedelta(seconds=1)).reminders == 0
    sent = []
    for days, spend in ((30, 50), (7, 25), (1, 0)):
        assert sweep(before_expiry(days)).reminders == 1
        assert sweep(before_expiry(days)).reminders == 0  # a rerun sends nothing
        sent += reminders(notifications)
        if spend:
            ledger.debit("acme", spend, "render", f"after-{days}", now=before_expiry(days))
    assert [(r["days_before"], r["credits"]) for r in sent] == [(30, 400), (7, 350), (1, 325)]
    assert {r["grant_id"] for r in sent} == {made.grant.id}
    assert {(r["expires_at"], r["source"]) for r in sent} == {("2026-02-10T00:00:00Z", "promotional")}
    assert len({r["id"] for r in sent}) == 3
    assert reminder_items("acme") == []


def test_no_reminder_once_the_grant_is_used_up(notifications: Notifications) -> None:
    ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    ledger.grant("acme", 100, "purchase", "bought", now=START)
    ledger.debit("acme", 100, "render", "d1", now=START)  # the promotional credits burn first
    assert sweep(before_expiry(30)).reminders == 0
    assert reminders(notifications) == []
    assert len(reminder_items("acme")) == 2  # 7 and 1 days before: still to be read, and dropped, then


def test_a_grant_gets_only_the_reminders_still_ahead(aws: None) -> None:
    made = ledger.grant("acme", 100, "promotional", "promo", expires_at=START + timedelta(days=5), now=START)
    assert reminder_items("acme") == [f"R#{made.grant.id}#1"]
    ledger.grant("acme", 100, "purchase", "never-expires", now=START)
    assert reminder_items("acme") == [f"R#{made.grant.id}#1"]


def test_a_sweep_that_fell_behind_sends_only_the_nearest_reminder(notifications: Notifications) -> None:
    ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    assert sweep(EXPIRY - timedelta(hours=12)).reminders == 1
    assert [r["days_before"] for r in reminders(notifications)] == [1]
    assert reminder_items("acme") == []


def test_after_the_expiry_a_reminder_is_dropped(notifications: Notifications) -> None:
    ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    report = sweep(EXPIRY)
    assert (report.reminders, report.expired) == (0, 100)
    assert [e["detail-type"] for e in notifications.pump()] == [
        "credits_expired",
        "credit_balance_low",  # 100 is not below the threshold 100; 0 is
        "credit_balance_depleted",
    ]
    assert reminder_items("acme") == []


def test_reminder_days_come_from_the_deployment(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPIRY_REMINDER_DAYS", "14,3")
    made = ledger.grant("acme", 100, "promotional", "promo", expires_at=EXPIRY, now=START)
    assert sorted(reminder_items("acme")) == [f"R#{made.grant.id}#14", f"R#{made.grant.id}#3"]

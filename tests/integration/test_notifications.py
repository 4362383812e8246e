"""Notifications on the bus: once per cause, the same ids when a batch is delivered again, and a failed
record retried on its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ledger
from devkit.bus import Notifications
from devkit.lambdas import invoke
from ledger.events.models import CreditsPurchased
from ledger.events.outbox import notification_put
from ledger.events.publisher import SOURCE
from ledger.events.publisher import client as events_client
from ledger.store.writes import transact
from ledger.usecases import expire as expire_module
from ledger.usecases.sweep import sweep
from tests.conftest import TABLE

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the deployment's default threshold is 100 (tests' environment)


@pytest.fixture
def notifications(aws: None) -> Notifications:
    return Notifications(TABLE)


def test_low_balance_fires_once_per_crossing(notifications: Notifications) -> None:
    ledger.grant("acme", 500, "purchase", "g1", now=NOW)
    assert notifications.kinds() == []
    ledger.debit("acme", 450, "render", "d1", now=NOW)  # 50: low
    [low] = notifications.pump()
    assert low["source"] == SOURCE
    assert low["detail-type"] == "credit_balance_low"
    assert {k: low["detail"][k] for k in ("account_id", "available", "threshold", "balance")} == {
        "account_id": "acme",
        "available": 50,
        "threshold": 100,
        "balance": 50,
    }
    ledger.debit("acme", 10, "render", "d2", now=NOW)  # still low: nothing
    assert notifications.kinds() == []
    ledger.grant("acme", 200, "purchase", "g2", now=NOW)  # 240: above again, re-armed
    assert notifications.kinds() == []
    ledger.debit("acme", 140, "render", "d3", now=NOW)  # exactly 100: not below, nothing
    assert notifications.kinds() == []
    assert ledger.balance_card("acme").low_balance  # the badge: at or below
    ledger.debit("acme", 1, "render", "d4", now=NOW)  # 99: below again
    [again] = notifications.pump()
    assert again["detail-type"] == "credit_balance_low"
    assert again["detail"]["available"] == 99
    assert again["detail"]["id"] != low["detail"]["id"]


def test_a_hold_that_takes_available_below_the_threshold_is_a_crossing(notifications: Notifications) -> None:
    ledger.grant("acme", 300, "purchase", "g1", now=NOW)
    hold, _ = ledger.place_hold("acme", 250, "h1", now=NOW)
    assert notifications.kinds() == ["credit_balance_low"]
    ledger.release_hold("acme", hold.hold_id, now=NOW)
    ledger.place_hold("acme", 250, "h2", now=NOW)
    assert notifications.kinds() == ["credit_balance_low"]


def test_raising_the_threshold_above_available_is_a_crossing(notifications: Notifications) -> None:
    ledger.grant("acme", 300, "purchase", "g1", now=NOW)
    ledger.set_limits("acme", low_balance_threshold=500, hard_limit=0)
    [low] = notifications.pump()
    assert (low["detail-type"], low["detail"]["threshold"], low["detail"]["available"]) == (
        "credit_balance_low",
        500,
        300,
    )


def test_depleted_fires_when_available_reaches_the_floor(notifications: Notifications) -> None:
    ledger.grant("acme", 150, "purchase", "g1", now=NOW)
    ledger.debit("acme", 100, "render", "d1", now=NOW)
    assert notifications.kinds() == ["credit_balance_low"]
    ledger.debit("acme", 50, "render", "d2", now=NOW)
    [depleted] = notifications.pump()
    assert depleted["detail-type"] == "credit_balance_depleted"
    assert (depleted["detail"]["available"], depleted["detail"]["hard_limit"]) == (0, 0)


def test_with_an_overdraft_depleted_means_the_floor_not_zero(notifications: Notifications) -> None:
    ledger.grant("acme", 50, "purchase", "g1", now=NOW)
    ledger.set_limits("acme", low_balance_threshold=0, hard_limit=-100, allow_overdraft=True)
    ledger.debit("acme", 50, "render", "d1", now=NOW)  # 0: not below the threshold 0, not depleted
    assert notifications.kinds() == []
    ledger.debit("acme", 100, "render", "d2", now=NOW)  # -100: below 0, and the floor
    low, depleted = notifications.pump()
    assert low["detail-type"] == "credit_balance_low"
    assert (depleted["detail-type"], depleted["detail"]["available"]) == ("credit_balance_depleted", -100)


def test_each_expired_grant_is_announced_with_its_exact_remainder(notifications: Notifications) -> None:
    expiry = NOW + timedelta(days=2)
    ledger.grant("acme", 100, "promotional", "promo", expires_at=expiry, now=NOW)
    ledger.grant("acme", 80, "subscription", "plan", expires_at=expiry, now=NOW)
    ledger.grant("acme", 500, "purchase", "bought", now=NOW)
    ledger.debit("acme", 130, "render", "d1", now=NOW)  # burns promo (100) then plan (30)
    notifications.pump()
    sweep(expiry)
    published = notifications.pump()
    assert [e["detail-type"] for e in published] == ["credits_expired"]
    [expired] = published
    assert (expired["detail"]["credits"], expired["detail"]["expires_at"]) == (50, "2026-01-03T00:00:00Z")
    assert expired["detail"]["balance"] == 500


def test_outbox_items_are_published_exactly_as_written_and_only_when_inserted(
    notifications: Notifications,
) -> None:
    detail = CreditsPurchased(
        account_id="acme",
        purchase_id="pur_1",
        credits=1000,
        amount=1000,
        currency="usd",
        payment_intent="pi_1",
    )
    transact([notification_put("acme", "credits_purchased", detail, NOW)])
    transact([notification_put("acme", "credits_purchased", detail, NOW)])  # written again: not an INSERT
    [published] = notifications.pump()
    assert (published["source"], published["detail-type"]) == (SOURCE, "credits_purchased")
    assert published["detail"] == detail.detail()
    assert published["detail"]["id"] == detail.id


def test_a_batch_delivered_twice_publishes_the_same_ids(notifications: Notifications) -> None:
    ledger.grant("acme", 200, "purchase", "g1", now=NOW)
    ledger.debit("acme", 150, "render", "d1", now=NOW)
    ledger.debit("acme", 50, "render", "d2", now=NOW)
    notifications.stream._read()
    batch = {"Records": list(notifications.stream.pending)}
    first = [invoke("notifications", batch), notifications.bus.published()]
    second = [invoke("notifications", batch), notifications.bus.published()]
    assert first[0] == second[0] == {"batchItemFailures": []}
    ids = [[(e["detail-type"], e["detail"]["id"]) for e in run[1]] for run in (first, second)]
    assert [kind for kind, _ in ids[0]] == ["credit_balance_low", "credit_balance_depleted"]
    assert ids[0] == ids[1]


@pytest.fixture
def refuse_once() -> Iterator[set[str]]:
    """EventBridge refuses, once, the entries about the accounts put in the returned set.

    The entry's DetailType is blanked before the request is built, so moto itself answers that entry with
    an error while it accepts the rest: a real per-entry failure of PutEvents."""
    accounts: set[str] = set()

    def blank(params: dict[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            account = json.loads(entry["Detail"])["account_id"]
            if account in accounts:
                entry["DetailType"] = ""
                accounts.discard(account)

    hooks = events_client().meta.events
    hooks.register("provide-client-params.events.PutEvents", blank)
    yield accounts
    hooks.unregister("provide-client-params.events.PutEvents", blank)


def test_a_publisher_failure_mid_batch_reports_only_the_failed_record(
    notifications: Notifications, refuse_once: set[str]
) -> None:
    """Only b's record is reported failed. Lambda delivers again from the earliest failed record, so c's
    notification, already published, goes out again with the same id; a's does not."""
    for account in ("a", "b", "c"):
        ledger.grant(account, 150, "purchase", "g1", now=NOW)
        ledger.debit(account, 100, "render", "d1", now=NOW)
    refuse_once.add("b")
    first, retry = notifications.stream.pump()
    assert len(first["batchItemFailures"]) == 1
    assert retry == {"batchItemFailures": []}
    published = notifications.bus.published()
    assert [e["detail"]["account_id"] for e in published] == ["a", "c", "b", "c"]
    ids: dict[str, set[str]] = {e["detail"]["account_id"]: set() for e in published}
    for e in published:
        ids[e["detail"]["account_id"]].add(e["detail"]["id"])
    assert all(len(same) == 1 for same in ids.values())


def due_in_several_steps(notifications: Notifications, lasting: int) -> None:
    """An account of ``lasting`` credits that do not expire, 30 grants of 10 that expire at one moment and 20
    holds of 10 that lapse one second later: available is ``lasting + 100`` before, ``lasting`` after. Settling
    it takes several steps (24 grants and 12 holds at most each), the first expiring grants before the holds
    that lapsed with them are released."""
    ledger.grant("acme", lasting, "purchase", "lasting", now=NOW)
    for n in range(30):
        ledger.grant("acme", 10, "promotional", f"g{n}", expires_at=NOW + timedelta(hours=1), now=NOW)
    for n in range(20):
        ledger.place_hold("acme", 10, f"h{n}", expires_in_seconds=3601, now=NOW)
    notifications.pump()


def settle_in_several_steps(notifications: Notifications, lasting: int) -> list[str]:
    """Settles ``due_in_several_steps``; returns what the settlement announced besides the expiries."""
    due_in_several_steps(notifications, lasting)
    sweep(NOW + timedelta(hours=2))
    kinds = notifications.kinds()
    assert kinds.count("credits_expired") == 30
    assert ledger.balance_card("acme", now=NOW + timedelta(hours=2)).account.available == lasting
    return [kind for kind in kinds if kind != "credits_expired"]


def test_a_settlement_in_several_steps_crosses_nothing_between_its_steps(
    notifications: Notifications,
) -> None:
    # 220 available before, 120 after, and below 100 after its first step
    assert settle_in_several_steps(notifications, lasting=120) == []


def test_a_settlement_in_several_steps_that_ends_low_announces_it_once(notifications: Notifications) -> None:
    # 150 available before, 50 after: low once; not depleted, though its first step leaves less than 0
    assert settle_in_several_steps(notifications, lasting=50) == ["credit_balance_low"]


def test_a_settlement_interrupted_then_taking_in_grants_still_crosses_once(
    notifications: Notifications, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settlement stopped after its first step (Busy), then grants that arrive and take the arrivals in
    (``materialize``), then the rest of the settlement: one crossing, from before its first step."""
    due_in_several_steps(notifications, lasting=50)
    later = NOW + timedelta(hours=2)
    monkeypatch.setattr(expire_module, "MAX_STEPS", 1)
    with pytest.raises(ledger.Busy):
        expire_module.settle_due("acme", later)
    monkeypatch.undo()
    for n in range(5):  # the fifth takes the four waiting in first
        ledger.grant("acme", 1, "purchase", f"late{n}", now=later)
    sweep(later)
    assert ledger.balance_card("acme", now=later).account.available == 55
    # 150 available before the settlement, 55 after: low once, announced by its last step, never depleted
    crossings = [e for e in notifications.pump() if e["detail-type"] != "credits_expired"]
    assert [(e["detail-type"], e["detail"]["available"]) for e in crossings] == [("credit_balance_low", 55)]

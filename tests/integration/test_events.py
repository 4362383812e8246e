"""Every sample event in events/ is valid for its function: invoking it against a seeded ledger succeeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ledger
from credits_local.functions import LambdaContext
from credits_local.template import ROOT, function_dirs
from devkit.bus import Bus
from devkit.fake_stripe import fake_stripe
from devkit.lambdas import invoke
from devkit.stripe_events import sign
from ledger.store import changed

EVENTS = ROOT / "events"
# run in this order: each event finds what the ones before it made
ORDER = [
    ("grants", "grants", 201),
    ("debit", "debit", 201),
    ("usage_batch", "usage_batch", 200),
    ("adjustments", "adjustments", 201),
    ("holds_place", "holds", 201),
    ("holds_get", "holds", 200),
    ("holds_capture", "holds", 200),
    ("balance", "balance", 200),
    ("transactions", "transactions", 200),
    ("export", "export", 200),
    ("usage_report", "usage_report", 200),
    ("limits_get", "limits", 200),
    ("limits_put", "limits", 200),
]


STRIPE = ("packages", "purchase", "billing_portal", "stripe_webhook")
AUTO_TOP_UP = (
    "auto_top_up_settings_get",
    "auto_top_up_settings_put",
    "auto_top_up",
    "auto_top_up_safety_net",
)


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_every_function_has_a_sample_event() -> None:
    functions = {path.name for path in function_dirs().values()}
    covered = (
        {function for _, function, _ in ORDER} | set(STRIPE) | {"expiry_sweep", "notifications", "reconcile"}
    )
    assert functions == covered | {"journal", "auto_top_up", "auto_top_up_settings"}
    assert {p.stem for p in EVENTS.glob("*.json")} == {name for name, _, _ in ORDER} | set(STRIPE) | {
        "holds_release",
        "journal",
        "expiry_sweep",
        "reconcile",
        "notifications",
        *AUTO_TOP_UP,
    }


@pytest.mark.usefixtures("aws")
def test_http_events_succeed_in_order() -> None:
    for name, function, status in ORDER:
        response = invoke(function, load(name))
        assert response["statusCode"] == status, (name, response.get("body"))


@pytest.mark.usefixtures("aws")
def test_release_event_releases_the_sample_hold() -> None:
    invoke("grants", load("grants"))
    assert invoke("holds", load("holds_place"))["statusCode"] == 201
    response = invoke("holds", load("holds_release"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["released"] == 100


@pytest.mark.usefixtures("aws")
def test_journal_event_writes_the_grant_entry() -> None:
    assert invoke("journal", load("journal")) == {"batchItemFailures": []}
    [entry] = ledger.history("acme").items
    assert (entry.type, entry.amount, entry.balance_after, entry.seq) == ("grant", 1000, 1000, 1)


@pytest.mark.usefixtures("aws")
def test_expiry_sweep_event_expires_the_sample_grant_at_its_time() -> None:
    """The sample schedule fires an hour after the sample grant expires: what the debit left expires."""
    for name, function, _ in ORDER[:2]:
        invoke(function, load(name))
    report = invoke("expiry_sweep", load("expiry_sweep"), LambdaContext(remaining_ms=300_000))
    assert (report["accounts"], report["expired"], report["complete"]) == (1, 975, True)
    assert ledger.balance_card("acme", now=datetime(2028, 1, 1, tzinfo=UTC)).account.balance == 0


@pytest.mark.usefixtures("aws")
def test_notifications_event_publishes_the_low_balance_and_the_reminder() -> None:
    bus = Bus()
    assert invoke("notifications", load("notifications")) == {"batchItemFailures": []}
    published = {e["detail-type"]: e["detail"] for e in bus.published()}
    assert published.keys() == {"credit_balance_low", "credits_expiring"}
    assert (published["credit_balance_low"]["available"], published["credits_expiring"]["days_before"]) == (
        50,
        30,
    )


def test_events_are_api_gateway_v2_stream_or_schedule_shapes() -> None:
    for path in EVENTS.glob("*.json"):
        event = json.loads(path.read_text())
        shape = (
            event.get("version") == "2.0"
            or "Records" in event
            or event.get("detail-type") == "Scheduled Event"
        )
        assert shape, Path(path).name


@pytest.mark.usefixtures("aws")
def test_purchase_and_packages_events_succeed(stripe_env: object) -> None:
    assert invoke("packages", load("packages"))["statusCode"] == 200
    assert invoke("purchase", load("purchase"))["statusCode"] == 201


@pytest.mark.usefixtures("aws")
def test_billing_portal_event_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_stripe() as fake:
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_fake")
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        assert invoke("billing_portal", load("billing_portal"))["statusCode"] == 201


@pytest.mark.usefixtures("aws", "stripe_env")
def test_stripe_webhook_event_verifies_once_re_signed_now() -> None:
    """The sample is signed with the test secret at a fixed moment: stale now, valid when signed afresh."""
    event = load("stripe_webhook")
    assert invoke("stripe_webhook", event)["statusCode"] == 400
    event["headers"]["stripe-signature"] = sign(event["body"])
    response = invoke("stripe_webhook", event)
    assert (response["statusCode"], json.loads(response["body"])["result"]) == (200, "ignored")


@pytest.mark.usefixtures("aws", "stripe_env")
def test_auto_top_up_events_turn_it_on_and_charge_the_sample_account_below_its_threshold() -> None:
    """The settings events turn auto top-up on for the sample account (50 credits, threshold 100); the queue's
    sample request charges it once; the safety net's sample run then finds nothing to do."""
    ledger.grant("acme", 50, "promotional", "welcome")
    assert invoke("auto_top_up_settings", load("auto_top_up_settings_get"))["statusCode"] == 200
    assert invoke("auto_top_up_settings", load("auto_top_up_settings_put"))["statusCode"] == 200
    assert invoke("auto_top_up", load("auto_top_up")) == {"batchItemFailures": []}
    assert ledger.balance_card("acme").account.balance == 1050
    report = invoke("auto_top_up", load("auto_top_up_safety_net"), LambdaContext(remaining_ms=30_000))
    assert (report["looked"], report["started"]) == (1, 0)


@pytest.mark.usefixtures("aws")
def test_usage_batch_event_answers_each_event() -> None:
    invoke("grants", load("grants"))
    response = invoke("usage_batch", load("usage_batch"))
    assert response["statusCode"] == 200
    results = json.loads(response["body"])["results"]
    # acme's two events fit its grant; globex has no credits, and acme's are not refused because of it
    assert [r["status"] for r in results] == ["accepted", "accepted", "insufficient_credits"]
    assert (results[1]["balance"], results[2]["available"], results[2]["requested"]) == (972, 0, 10)


@pytest.mark.usefixtures("journal")
def test_reconcile_event_finds_the_sample_grant_the_sweep_never_expired(
    journal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample schedule fires three hours after the sample grant expired, and no sweep has run: with the
    sweep's hourly schedule that is late, and reported."""
    monkeypatch.setenv("EXPIRY_SWEEP_SCHEDULE", "rate(1 hour)")
    for name, function, _ in ORDER[:2]:
        invoke(function, load(name))
    journal.pump()
    event = load("reconcile")
    changed.mark_changed(
        "acme", datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    )  # as its journal would
    summary = invoke("reconcile", event, LambdaContext(remaining_ms=900_000))
    assert (summary["accounts"], [d["kind"] for d in summary["drifts"]]) == (1, ["expiry_unsettled"])

"""docs/events/ holds the JSON Schema of every notification's detail, generated from the models, current."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from credits_local.template import ROOT
from ledger.events.models import (
    NOTIFICATIONS,
    CreditBalanceLow,
    CreditPurchaseFailed,
    CreditsExpiring,
    CreditsPurchased,
)
from ledger.events.outbox import notification_put


def test_the_committed_schemas_are_current() -> None:
    result = subprocess.run([sys.executable, "scripts/event_schemas.py", "--check"], cwd=ROOT, check=False)
    assert result.returncode == 0, "docs/events/ is stale: run `make event-schemas`"


def test_every_notification_has_a_schema_with_its_id_and_account() -> None:
    for name in NOTIFICATIONS:
        schema = json.loads((ROOT / "docs" / "events" / f"{name}.json").read_text())
        assert {"id", "account_id"} <= set(schema["required"]), name


LOW = {
    "account_id": "acme",
    "seq": 7,
    "balance": 90,
    "held": 0,
    "available": 90,
    "hard_limit": 0,
    "threshold": 100,
}


def test_the_id_follows_from_the_cause_only() -> None:
    assert CreditBalanceLow(**LOW).id == CreditBalanceLow(**{**LOW, "balance": 50, "available": 50}).id
    assert CreditBalanceLow(**LOW).id != CreditBalanceLow(**{**LOW, "seq": 8}).id
    assert CreditBalanceLow(**LOW).id != CreditBalanceLow(**{**LOW, "account_id": "other"}).id
    reminder = {
        "account_id": "acme",
        "grant_id": "grt_1",
        "credits": 5,
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
        "source": "promotional",
    }
    assert CreditsExpiring(**reminder, days_before=7).id != CreditsExpiring(**reminder, days_before=1).id


def test_credit_amounts_are_integers_never_coerced() -> None:
    purchase = {"account_id": "acme", "purchase_id": "pur_1", "amount": 1000, "currency": "usd"}
    with pytest.raises(ValueError):
        CreditsPurchased(**purchase, credits="1000")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CreditsPurchased(**purchase, credits=10.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CreditPurchaseFailed(**purchase, credits=1000)  # type: ignore[call-arg]  # reason is required


@pytest.mark.usefixtures("_environment")
def test_the_outbox_put_refuses_a_detail_of_another_kind_or_account() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    low = CreditBalanceLow(**LOW)
    put = notification_put("acme", "credit_balance_low", low, now)["Put"]
    assert put["Item"]["sk"] == {"S": f"N#{low.id}"}
    assert put["Item"]["detail"]["M"]["id"] == {"S": low.id}
    with pytest.raises(ValueError):
        notification_put("acme", "credit_balance_depleted", low, now)
    with pytest.raises(ValueError):
        notification_put("other", "credit_balance_low", low, now)

"""What an auto top-up's outcome writes to its auto top-up item, in the same transaction as the outcome.

Each update is conditioned on the top-up still being the one in flight, so an outcome is recorded once
however many times the charge's response and Stripe's webhooks report it, and the claim is released only
by recording its outcome."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from ledger.domain.changes import epoch, iso
from ledger.domain.purchase import Purchase
from ledger.domain.top_up import DEFAULT_COOLDOWN_SECONDS, STALE_AFTER_SECONDS, Attempt, after_failure
from ledger.store.schema import account_key, top_up_key
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT, attempt_map, get_top_up
from ledger.store.writes import Expr


def cooldown_seconds() -> int:
    minutes = os.environ.get("AUTO_TOP_UP_COOLDOWN_MINUTES")
    return int(minutes) * 60 if minutes else DEFAULT_COOLDOWN_SECONDS


def _still_in_flight(purchase: Purchase) -> Expr:
    return Expr().when("{a_f} = {id}", a_f="in_flight", id=purchase.id).add("version", 1)


def succeeded(purchase: Purchase, now: datetime) -> dict[str, Any]:
    """Committed with the top-up's grant: release the claim, clear the failure count."""
    expr = _still_in_flight(purchase).remove("in_flight").remove("retry_at").set("failures", 0)
    expr.set("last_result", attempt_map(Attempt("succeeded", purchase.id, iso(now)))).set("check_at", 0)
    return expr.update(top_up_key(purchase.account_id))


def processing(purchase: Purchase, now: datetime) -> dict[str, Any]:
    """Stripe is still processing: keep the claim; the webhook settles it (or a later look, when stale)."""
    expr = _still_in_flight(purchase).set("check_at", epoch(now) + STALE_AFTER_SECONDS)
    expr.set("last_result", attempt_map(Attempt("processing", purchase.id, iso(now))))
    return expr.update(top_up_key(purchase.account_id))


def failed(purchase: Purchase, failure: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Committed with the purchase's failure: release the claim, then cool down or stop."""
    code, decline = failure.get("code"), failure.get("decline_code")
    before = get_top_up(purchase.account_id).failures
    verdict = after_failure(before, code, decline, epoch(now), cooldown_seconds())
    attempt = Attempt("failed", purchase.id, iso(now), code, failure.get("message"), decline)
    expr = _still_in_flight(purchase).remove("in_flight").set("failures", verdict.failures)
    expr.set("last_result", attempt_map(attempt))
    if verdict.disabled_reason is None:
        assert verdict.retry_at is not None
        expr.set("retry_at", verdict.retry_at).set("check_at", verdict.retry_at)
        return [expr.update(top_up_key(purchase.account_id))]
    expr.set("enabled", False).set("disabled_reason", verdict.disabled_reason)
    expr.remove("retry_at").remove("top_up_pk").remove("check_at")
    account = Expr().remove(THRESHOLD_ON_ACCOUNT)
    return [
        expr.update(top_up_key(purchase.account_id)),
        account.update(account_key(purchase.account_id), return_old_on_failure=False),
    ]

"""Expiring-soon reminders: a ``credits_expiring`` notification some days before a grant expires.

A grant with an expiry is written together with one reminder item per reminder day still ahead
(``R#<grant_id>#<days>``), each in the sparse ``due`` index at its moment, so the sweep reads only the
reminders that are due. Sending one deletes its item (on condition it still exists) and writes the
notification to the outbox in the same transaction: once per grant and reminder day, whoever sends it. A
reminder whose grant has no credits left, has expired, or whose later reminder is due too, is dropped
without a notification.

Reminder days come from ``EXPIRY_REMINDER_DAYS`` (comma-separated, default "30,7,1").
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from typing import Any

from ledger.domain.changes import epoch, from_epoch
from ledger.domain.grants import Grant
from ledger.domain.settlement import as_of
from ledger.events.models import CreditsExpiring
from ledger.events.outbox import notification_put
from ledger.store import schema, table
from ledger.store.grants import parse_grant, read_grants, sk_of
from ledger.store.results import read_account
from ledger.store.schema import REMINDER_PREFIX, reminder_sk
from ledger.store.writes import Cancelled, put, transact

DAY = 86_400
DEFAULT_REMINDER_DAYS = "30,7,1"


def reminder_days() -> list[int]:
    """The configured reminder days, largest first."""
    text = os.environ.get("EXPIRY_REMINDER_DAYS") or DEFAULT_REMINDER_DAYS
    days = {int(part) for part in text.split(",") if part.strip()}
    if any(d <= 0 for d in days):
        raise ValueError(f"EXPIRY_REMINDER_DAYS must list positive whole days, not {text!r}")
    return sorted(days, reverse=True)


def reminder_puts(account_id: str, grant: Grant, now: datetime) -> list[dict[str, Any]]:
    """Puts of the reminder items of a new grant: one per reminder day whose moment is still ahead."""
    if grant.expires_at is None:
        return []
    puts = []
    for days in reminder_days():
        moment = grant.expires_at - days * DAY
        if moment <= epoch(now):
            continue
        item = {
            "pk": schema.account_pk(account_id),
            "sk": reminder_sk(grant.id, days),
            "due_pk": schema.DUE_PK,
            "due": moment,
            "grant_sk": sk_of(grant),
            "ttl": grant.expires_at + DAY,
        }
        puts.append(put(item, only_if_new=False))
    return puts


def send_reminder(account_id: str, sk: str, now: datetime) -> bool:
    """Send the due reminder ``sk`` if its grant still has credits. True if this call sent it."""
    grant_id, days_text = sk.removeprefix(REMINDER_PREFIX).rsplit("#", 1)
    days = int(days_text)
    delete = {
        "Delete": {
            "TableName": table.table_name(),
            "Key": table.to_item({"pk": schema.account_pk(account_id), "sk": sk}),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    grant = _remainder_now(account_id, sk, grant_id, now)
    actions = [delete]
    if grant is not None and grant.remaining > 0 and grant.expires_at and not _superseded(grant, days, now):
        detail = CreditsExpiring(
            account_id=account_id,
            grant_id=grant_id,
            credits=grant.remaining,
            expires_at=from_epoch(grant.expires_at),
            days_before=days,
            source=grant.source,
        )
        actions.append(notification_put(account_id, CreditsExpiring.name, detail, now))
    try:
        transact(actions)
    except Cancelled:
        return False  # sent (or dropped) by another sweep
    return len(actions) > 1


def _remainder_now(account_id: str, reminder: str, grant_id: str, now: datetime) -> Grant | None:
    """The grant with its exact remainder now (None if it is gone): settled in memory with the grants that
    the consumption since the last settlement reached."""
    item = table.get_item(account_id, reminder) or {}
    account = read_account(account_id)
    grant_item = table.get_item(account_id, item["grant_sk"]) if "grant_sk" in item else None
    if grant_item is None:
        return None
    grants = [g for g in read_grants(account).grants if g.id != grant_id]
    grants.append(parse_grant(grant_item, account.pending))
    settled = as_of(replace(account, grants=grants), epoch(now))
    return next((g for g in settled.grants if g.id == grant_id), None)


def _superseded(grant: Grant, days: int, now: datetime) -> bool:
    """A nearer reminder of the same grant is already due (the sweep fell behind): send only that one."""
    assert grant.expires_at is not None
    return any(d < days and grant.expires_at - d * DAY <= epoch(now) for d in reminder_days())

"""Notifications that follow from an account write, read off the write's old and new images.

- ``credits_expired``: one per ``expiry`` change the write made, numbered like its history entry.
- ``credit_balance_low``: available went from at or above the low-balance threshold to below it.
- ``credit_balance_depleted``: available went from above the floor to at or down to it.

Each is a crossing between the two images, so staying low fires nothing and every new crossing fires once.
A settlement of several steps is one write here: its steps cross nothing, its last step crosses from the
figures before its first (store/account_item.py). A write that does not advance ``seq`` (a limits change) keeps
the seq of the write before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.changes import Change, from_epoch
from ledger.domain.thresholds import crossed_below
from ledger.journal import entries_of
from ledger.store.account_item import available_before, parse_account
from ledger.store.batches import holds_no_changes
from ledger.usecases.limits import low_balance_threshold

if TYPE_CHECKING:
    from ledger.events.models import CreditsExpired, Notification

# The notification classes are imported only when a write announces something: most writes announce
# nothing, and the notifications function then starts without them.


def account_notifications(
    account_id: str, old: dict[str, Any] | None, new: dict[str, Any]
) -> list[Notification]:
    before, after = parse_account(account_id, old), parse_account(account_id, new)
    notifications: list[Notification] = [*_expired(before.account_id, old, new)]
    figures: dict[str, Any] = {
        "account_id": account_id,
        "seq": after.seq,
        "balance": after.balance,
        "held": after.held,
        "available": after.available,
        "hard_limit": after.hard_limit,
    }
    start = available_before(before, old, new)
    if start is None:
        return notifications
    threshold = low_balance_threshold(after)
    if crossed_below(start, low_balance_threshold(before), after.available, threshold):
        from ledger.events.models import CreditBalanceLow

        notifications.append(CreditBalanceLow(threshold=threshold, **figures))
    if start > before.hard_limit and after.available <= after.hard_limit:
        from ledger.events.models import CreditBalanceDepleted

        notifications.append(CreditBalanceDepleted(**figures))
    return notifications


def _expired(account_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[CreditsExpired]:
    last = new.get("last") or []
    if holds_no_changes(last):
        return []  # a batch of usage events or a hot account's posting: consumption only
    changes = [Change.from_map(c) for c in last]
    if not any(change.type == "expiry" for change in changes):
        return []
    from ledger.events.models import CreditsExpired

    return [
        CreditsExpired(
            account_id=account_id,
            seq=entry.seq or 0,
            grant_id=change.extra["grant_id"],
            credits=-change.amount,
            expires_at=from_epoch(change.extra["expires_at"]),
            balance=entry.balance_after or 0,
        )
        for change, entry in entries_of(old, new, changes)
        if change.type == "expiry"
    ]

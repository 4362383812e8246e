"""Top-up requests: the stream sees a write take an account's available below its auto top-up threshold and
asks the auto top-up function, through its queue, to start the top-up.

The stream already has its two readers (the journal, the notifications publisher; DynamoDB advises no more
per shard), so the notifications function finds the crossings and this queue carries them. A request names
the crossing (account and seq); the claim decides, so a request delivered twice starts one top-up."""

from __future__ import annotations

from typing import Any

from ledger.domain.thresholds import crossed_below
from ledger.events.top_up_queue import TopUpRequest
from ledger.store.account_item import available_before, parse_account
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT


def crossing(account_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> TopUpRequest | None:
    """A request when this account write took available below the auto top-up threshold (or turned auto
    top-up on while below it)."""
    if new.get(THRESHOLD_ON_ACCOUNT) is None:
        return None  # auto top-up is off, as for most accounts: their figures need no reading
    before, after = parse_account(account_id, old), parse_account(account_id, new)
    start = available_before(before, old, new)
    if start is None or not crossed_below(
        start, before.top_up_threshold, after.available, after.top_up_threshold
    ):
        return None  # not below, already below before this write, or a step of a settlement before its last
    return TopUpRequest(account_id=account_id, seq=after.seq)

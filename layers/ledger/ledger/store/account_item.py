"""Reading the account item into the domain's Account, and the names of its per-grant attributes.

The item holds no map that grows with the account: grants and holds are items of their own
(store/grant_items.py, usecases/hold.py). The only per-grant attributes are those of the grants that arrived
since the last settlement (``b#<id>``: their base, ``s#<id>``: their arrival), at most MAX_PENDING of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledger.domain.account import Account

PENDING_BASE_PREFIX = "b#"
PENDING_ARRIVAL_PREFIX = "s#"
DAILY_SPEND_PREFIX = "sd_"
MAX_PENDING = 4  # grants arrived since the last settlement; the next one settles first
# available before a settlement of several steps, kept from its first step until its last one removes it
SETTLING_FROM = "settling_from"


def _short(grant_id: str) -> str:
    return grant_id.removeprefix("grt_")


def pending_base_attr(grant_id: str) -> str:
    return PENDING_BASE_PREFIX + _short(grant_id)


def pending_arrival_attr(grant_id: str) -> str:
    return PENDING_ARRIVAL_PREFIX + _short(grant_id)


def daily_spend_attr(day: str) -> str:
    """``day``: yyyymmdd."""
    return DAILY_SPEND_PREFIX + day


def stale_daily_spend_attr(now: datetime) -> str:
    """The daily spend a write removes: 8 days back, out of the 7-day burn window."""
    return daily_spend_attr((now - timedelta(days=8)).strftime("%Y%m%d"))


def parse_account(account_id: str, item: dict[str, Any] | None) -> Account:
    if item is None:
        return Account(account_id=account_id)
    spend, pending = {}, {}
    for name, value in item.items():
        if name.startswith(DAILY_SPEND_PREFIX):
            spend[name[len(DAILY_SPEND_PREFIX) :]] = value
        elif name.startswith(PENDING_BASE_PREFIX):
            short = name[len(PENDING_BASE_PREFIX) :]
            pending["grt_" + short] = (value, item.get(PENDING_ARRIVAL_PREFIX + short, 0))
    return Account(
        account_id=account_id,
        exists=True,
        balance=item.get("balance", 0),
        held=item.get("held", 0),
        seq=item.get("seq", 0),
        unsettled=item.get("unsettled", 0),
        lifetime_added=item.get("lifetime_added", 0),
        lifetime_spent=item.get("lifetime_spent", 0),
        lifetime_expired=item.get("lifetime_expired", 0),
        lifetime_clawed_back=item.get("lifetime_clawed_back", 0),
        hard_limit=item.get("hard_limit", 0),
        low_balance_threshold=item.get("low_balance_threshold"),
        due=item.get("due"),
        last_payment_at=item.get("last_payment_at"),
        top_up_threshold=item.get("top_up_threshold"),
        daily_spend=spend,
        pending=pending,
        priorities=frozenset(item.get("prios") or ()),
        grant_items=item.get("grant_items", 0),
        arrived=item.get("arrived", 0),
        settlements=item.get("settlements", 0),
        holds_placed=item.get("holds_placed", 0),
        shards=item.get("shards", 0),
        allotted=item.get("allotted", 0),
    )


def available_before(account: Account, old: dict[str, Any] | None, new: dict[str, Any]) -> int | None:
    """Available as a write from ``old`` (parsed: ``account``) to ``new`` crosses a threshold from, or None when
    it crosses nothing: a settlement of several steps crosses as one write, from the available before its
    first step to the one after its last (lapsed holds released in a later step than the grants that expired
    with them do not make available look low between)."""
    if SETTLING_FROM in new:
        return None  # a step before the last
    if old is not None and SETTLING_FROM in old:
        return int(old[SETTLING_FROM])
    return account.available

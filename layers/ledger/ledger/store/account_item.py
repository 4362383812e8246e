"""Reading the account item into the domain's Account."""

from __future__ import annotations

from typing import Any

from ledger.domain.account import Account, OpenHold
from ledger.domain.grants import Grant

GRANT_PREFIX = "g_"
GRANT_BASE_PREFIX = "gb_"
GRANT_ARRIVAL_PREFIX = "ga_"
HOLD_PREFIX = "h_"
DAILY_SPEND_PREFIX = "sd_"


def grant_attr(grant_id: str) -> str:
    return GRANT_PREFIX + grant_id


def grant_base_attr(grant_id: str) -> str:
    return GRANT_BASE_PREFIX + grant_id


def grant_arrival_attr(grant_id: str) -> str:
    return GRANT_ARRIVAL_PREFIX + grant_id


def hold_attr(hold_id: str) -> str:
    return HOLD_PREFIX + hold_id


def daily_spend_attr(day: str) -> str:
    return DAILY_SPEND_PREFIX + day


def grant_map(grant: Grant) -> dict[str, Any]:
    values: dict[str, Any] = {
        "amount": grant.amount,
        "remaining": grant.remaining,
        "source": grant.source,
        "priority": grant.priority,
        "created_at": grant.created_at,
    }
    if grant.expires_at is not None:
        values["expires_at"] = grant.expires_at
    return values


def parse_account(account_id: str, item: dict[str, Any] | None) -> Account:
    if item is None:
        return Account(account_id=account_id)
    grants, holds, spend = [], [], {}
    for name, value in item.items():
        if name.startswith(GRANT_PREFIX):
            grant_id = name[len(GRANT_PREFIX) :]
            grants.append(
                Grant(
                    id=grant_id,
                    amount=value["amount"],
                    remaining=value["remaining"],
                    source=value["source"],
                    priority=value["priority"],
                    created_at=value["created_at"],
                    expires_at=value.get("expires_at"),
                    base=item.get(grant_base_attr(grant_id), 0),
                    arrival=item.get(grant_arrival_attr(grant_id), 0),
                )
            )
        elif name.startswith(HOLD_PREFIX):
            holds.append(
                OpenHold(id=name[len(HOLD_PREFIX) :], amount=value["amount"], expires_at=value["expires_at"])
            )
        elif name.startswith(DAILY_SPEND_PREFIX):
            spend[name[len(DAILY_SPEND_PREFIX) :]] = value
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
        grants=sorted(grants, key=lambda g: (g.created_at, g.id)),
        holds=sorted(holds, key=lambda h: (h.expires_at, h.id)),
        daily_spend=spend,
    )

"""The balance card: one Query of the account (its auto top-up item and newest entries come with it), then,
when the card needs them, one of its first grants."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import Entry, from_epoch, utcnow
from ledger.domain.errors import Busy
from ledger.domain.grants import Grant
from ledger.domain.settlement import as_of
from ledger.domain.thresholds import shows_low
from ledger.domain.top_up import TopUp
from ledger.store import entries, schema, table
from ledger.store.account_item import parse_account
from ledger.store.grants import all_grants, read_grants
from ledger.store.holds import lapsed_and_next
from ledger.store.schema import TOP_UP_SK
from ledger.store.shards import hot_view
from ledger.store.top_up_item import parse_top_up
from ledger.usecases.limits import low_balance_threshold

RECENT = 5
EXPIRING_SOON = timedelta(days=30)
SNAPSHOT_TRIES = 5
EXPIRING_SOON_LISTED = 10  # the soonest ones; the card reads no more grants than that per priority
BURN_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class Expiring:
    amount: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class BalanceCard:
    account: Account
    low_balance_threshold: int
    grants: list[Grant]  # live grants with exact remainders now: the soonest to expire and to be used
    expiring_soon: list[Expiring]
    recent: list[Entry]
    spent_last_7_days: int
    estimated_runway_seconds: int | None
    top_up: TopUp

    @property
    def low_balance(self) -> bool:
        return shows_low(self.account.available, self.low_balance_threshold)


def _query(**kwargs: Any) -> dict[str, Any]:
    return table.client().query(TableName=table.table_name(), **kwargs)  # type: ignore[return-value]


def balance_card(account_id: str, now: datetime | None = None) -> BalanceCard:
    """The account item, its auto top-up item and its newest entries come back from one Query ("A" and "AT"
    sort just before "E#"); for an account whose newest entries are in blocks, one more Query reads them."""
    now = now or utcnow()
    response = _query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :e",
        ExpressionAttributeValues=table.to_item(
            {":pk": schema.account_pk(account_id), ":a": schema.ACCOUNT_SK, ":e": schema.LAST_ENTRY_SK}
        ),
        Limit=2 + RECENT,
        ConsistentRead=True,
    )
    items = [table.from_item(i) or {} for i in response.get("Items", [])]
    account_item = items[0] if items and items[0]["sk"] == schema.ACCOUNT_SK else None
    at = int(now.timestamp())
    account = hot_view(account_id, parse_account(account_id, account_item), now)
    account = _as_of(account, at, int((now + EXPIRING_SOON).timestamp()))
    layout = entries.layout_of(account_id, account_item)
    if layout.blocks_from is None:
        recent = [Entry.from_map(i) for i in items if i["sk"].startswith(schema.ENTRY_PREFIX)][:RECENT]
    else:  # its newest entries are in blocks of their own (store/entries.py)
        recent = entries.newest(layout, RECENT)
    top_up = parse_top_up(account_id, next((i for i in items if i["sk"] == TOP_UP_SK), None))
    grants = account.grants
    horizon = int((now + EXPIRING_SOON).timestamp())
    soon = sorted(
        (
            Expiring(g.remaining, from_epoch(g.expires_at))
            for g in grants
            if g.expires_at and g.expires_at <= horizon
        ),
        key=lambda e: e.expires_at,
    )[:EXPIRING_SOON_LISTED]
    days = {(now.date() - timedelta(days=d)).strftime("%Y%m%d") for d in range(BURN_WINDOW_DAYS)}
    spent = sum(v for k, v in account.daily_spend.items() if k in days)
    runway = max(account.available, 0) * BURN_WINDOW_DAYS * 86400 // spent if spent else None
    return BalanceCard(
        account=account,
        low_balance_threshold=low_balance_threshold(account),
        grants=grants,
        expiring_soon=soon,
        recent=recent,
        spent_last_7_days=spent,
        estimated_runway_seconds=runway,
        top_up=top_up,
    )


def _as_of(account: Account, at: int, horizon: int) -> Account:
    """The account as it is at ``at`` (expiries not yet written count already), with the grants that matter
    to the card: those consumption reached, the arrivals, those expiring by ``horizon`` (up to
    EXPIRING_SOON_LISTED per priority) and the first to survive in each priority."""
    for _ in range(SNAPSHOT_TRIES):
        if not account.grant_items and not (account.due is not None and account.due <= at):
            return account
        read = read_grants(account, at=at, horizon=horizon, soon=EXPIRING_SOON_LISTED, first_page=16)
        due = account.due is not None and account.due <= at
        if not due:
            return replace(as_of(replace(account, grants=read.grants), at), due=account.due)
        holds = lapsed_and_next(account.account_id, at, 10_000) if account.held else []
        # while something is due the balance itself comes from the grants and holds just read: they must be
        # those of the account as read, not of a settlement or arrival that committed in between
        again = parse_account(account.account_id, table.get_item(account.account_id, schema.ACCOUNT_SK))
        if (again.settlements, again.arrived) == (account.settlements, account.arrived):
            return as_of(replace(account, grants=read.grants, holds=holds), at)
        account = hot_view(account.account_id, again, from_epoch(at))
    raise Busy("the account kept being settled while it was read; retry")


def live_grants(account_id: str, now: datetime | None = None) -> list[Grant]:
    """Every live grant of the account with its exact remainder now (reads every grant item: for operators
    and tests; the balance card reads only the few it shows)."""
    now = now or utcnow()
    at = int(now.timestamp())
    account = parse_account(account_id, table.get_item(account_id, schema.ACCOUNT_SK))
    account = hot_view(account_id, account, now)
    return as_of(replace(account, grants=all_grants(account)), at).grants

"""Live grant items (``G#<burn key>``): writing one, and reading the few a settlement or a read needs.

Why a few are enough: since the last settlement every stored grant's ``remaining`` is exact, and the
consumption since (``account.unsettled``) has been burned greedily in burn order. So it reached only a
prefix of the stored grants in key order: the first one whose cumulative stored remainder exceeds
``unsettled`` (``P_last``) is not used up, and nothing behind it got any of it. Reading that prefix, the
grants that arrived since (``account.pending``), and, per priority, the grants that expire by a moment plus
the first one that survives it, gives every exact remainder that can have changed and the next expiry.
Each used-up grant is read by one settlement and deleted by it, so the reads are paid once per grant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.account import Account
from ledger.domain.grants import Grant, source_rank
from ledger.store import schema, table

FIRST_PAGE = 2  # most reads need the first grant of a range and the one after it
LAST_PAGE = 100


def grant_key(account_id: str, grant: Grant) -> dict[str, str]:
    return {"pk": schema.account_pk(account_id), "sk": sk_of(grant)}


def sk_of(grant: Grant) -> str:
    return schema.grant_sk(
        grant.priority, grant.expires_at, source_rank(grant.source), grant.created_at, grant.id
    )


def grant_item(account_id: str, grant: Grant) -> dict[str, Any]:
    item: dict[str, Any] = {
        **grant_key(account_id, grant),
        "grant_id": grant.id,
        "amount": grant.amount,
        "remaining": grant.remaining,
        "source": grant.source,
        "priority": grant.priority,
        "created_at": grant.created_at,
    }
    if grant.expires_at is not None:
        item["expires_at"] = grant.expires_at
    return item


def parse_grant(item: dict[str, Any], pending: dict[str, tuple[int, int]]) -> Grant:
    base, arrival = pending.get(item["grant_id"], (0, 0))
    return Grant(
        id=item["grant_id"],
        amount=item["amount"],
        remaining=item["remaining"],
        source=item["source"],
        priority=item["priority"],
        created_at=item["created_at"],
        expires_at=item.get("expires_at"),
        base=base,
        arrival=arrival,
    )


def _pages(kwargs: dict[str, Any], grow: bool) -> Iterator[dict[str, Any]]:
    """The items of a Query, page after page (each page four times the last, up to LAST_PAGE, if ``grow``)."""
    while True:
        page = table.client().query(**kwargs)
        for raw in page.get("Items", []):
            yield table.from_item(raw) or {}
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if grow:
            kwargs["Limit"] = min(kwargs["Limit"] * 4, LAST_PAGE)


def _range_items(
    account_id: str, priority: int | None, first_page: int = FIRST_PAGE, through: int | None = None
) -> Iterator[dict[str, Any]]:
    """The grant items of one priority (None: all), in key order, in pages that grow. ``through``: read the
    grants expiring by then in one Query first (all of them are needed), then the rest page by page."""
    prefix = schema.GRANT_PREFIX if priority is None else schema.grant_range(priority)
    pk = schema.account_pk(account_id)
    base: dict[str, Any] = {"TableName": table.table_name(), "ConsistentRead": True}
    rest: dict[str, Any] = {
        **base,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :g)",
        "ExpressionAttributeValues": table.to_item({":pk": pk, ":g": prefix}),
        "Limit": first_page,
    }
    if through is not None and priority is not None:
        bound = f"{prefix}{through:011d}#~"
        expiring = {
            **base,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :g AND :t",
            "ExpressionAttributeValues": table.to_item({":pk": pk, ":g": prefix, ":t": bound}),
        }
        yield from _pages(expiring, grow=False)
        rest["ExclusiveStartKey"] = table.to_item({"pk": pk, "sk": bound})
    yield from _pages(rest, grow=True)


def all_grants(account: Account) -> list[Grant]:
    """Every grant item of the account (an operator's or a test's read: it grows with the live grants)."""
    return [parse_grant(item, account.pending) for item in _range_items(account.account_id, None)]


@dataclass
class GrantRead:
    """The grants a settlement (or a read) needs, and how far they settle the consumption."""

    grants: list[Grant] = field(default_factory=list)
    level: int = 0  # the part of account.unsettled these grants settle exactly (all of it unless partial)
    partial: bool = False  # stopped after max_stored used-up grants: settle ``level`` now, the rest later
    cut: int | None = None  # stopped after max_expiring expiring grants: more expire at or after this moment
    complete: set[int] = field(default_factory=set)  # priorities whose every grant item was read


def read_grants(
    account: Account,
    *,
    at: int | None = None,
    horizon: int | None = None,
    soon: int = 0,
    max_stored: int | None = None,
    max_expiring: int | None = None,
    first_page: int = FIRST_PAGE,
) -> GrantRead:
    """Read the grants whose remainders can have changed since the last settlement (the consumed prefix and
    the pending arrivals), and with ``at``: per priority, the grants expiring by ``at`` and the first grant
    after them that survives (so the next expiry is known); with ``horizon``: also up to ``soon`` grants
    per priority expiring by then."""
    read = GrantRead(level=account.unsettled)
    # grants expiring by ``at`` exist only if the guard says something is due: then read them in one Query
    through = at if at is not None and account.due is not None and account.due <= at else None
    covered = 0  # stored remainders of the prefix read so far
    in_prefix = True
    stored_read = expiring_read = 0
    for priority in sorted(account.priorities):
        soon_read = 0
        survivor = False  # stopped at a grant that survives: the rest of this priority is not needed
        for item in _range_items(account.account_id, priority, first_page, through=through):
            grant = parse_grant(item, account.pending)
            read.grants.append(grant)
            if grant.id in account.pending:
                continue  # an arrival: settled with the rest, never a stop
            expiry = grant.expires_at
            if in_prefix:
                stored_read += 1
                covered += grant.remaining
                if covered > account.unsettled:
                    in_prefix = False  # P_last: not used up, nothing behind it consumed
                elif max_stored is not None and stored_read >= max_stored:
                    read.level, read.partial = covered, True
                    return read
                else:
                    continue
            if at is None:
                return read  # only the consumption was asked for
            if expiry is not None and expiry <= at:
                expiring_read += 1
                if max_expiring is not None and expiring_read >= max_expiring:
                    read.cut = expiry
                    return read
                continue
            if horizon is not None and expiry is not None and expiry <= horizon and soon_read < soon:
                soon_read += 1
                continue
            survivor = True
            break
        if not survivor:
            read.complete.add(priority)
    return read

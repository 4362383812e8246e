"""Grants and the burn order.

Debits never touch grants: they only add to the account's ``unsettled`` counter (consumption not yet
allocated to grants). Each grant remembers ``base``, the value of ``unsettled`` when it arrived, so the
consumption stream splits into segments [base_i, base_i+1): every segment is burned, greedily in burn order,
from the grants that existed when it began. Greedy allocation over a fixed set of grants in a fixed order is
additive (burning x then y equals burning x + y), so allocating a whole segment at once gives exactly what
burning every debit as it happened would have given. Consumption that finds no credit left (an overdraft) is
debt: the next grants to arrive repay it first, in the order they arrived.

Settlement happens only when the set of live grants changes by expiry, which the account's ``due`` guard
orders before any later debit; so a grant's remainder at its expiry is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, get_args

Source = Literal["purchase", "auto_top_up", "promotional", "subscription", "adjustment"]
SOURCES: tuple[str, ...] = get_args(Source)
# promotional and subscription credits burn before purchased ones (after priority and expiry).
_SOURCE_RANK = {"promotional": 0, "subscription": 0, "adjustment": 1, "purchase": 1, "auto_top_up": 1}
NEVER = 2**63  # sorts never-expiring grants last
DEFAULT_PRIORITY = 100


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    amount: int
    remaining: int  # as of the last settlement
    source: str
    priority: int
    created_at: int  # epoch milliseconds
    expires_at: int | None = None  # epoch seconds
    base: int = 0  # account.unsettled when the grant arrived (since the last settlement)
    arrival: int = 0  # account.seq when the grant arrived: orders grants that arrived at the same base


def source_rank(source: str) -> int:
    return _SOURCE_RANK[source]


def burn_key(grant: Grant) -> tuple[int, int, int, int, str]:
    """Lower priority number first, soonest expiry (never last), promotional/subscription first, oldest."""
    expiry = grant.expires_at if grant.expires_at is not None else NEVER
    return (grant.priority, expiry, _SOURCE_RANK[grant.source], grant.created_at, grant.id)


def burn(grants: list[Grant], amount: int) -> tuple[list[Grant], int]:
    """Burn ``amount`` from ``grants`` in burn order. Returns the grants and what could not be burned."""
    left = amount
    burned: dict[str, int] = {}
    for grant in sorted(grants, key=burn_key):
        if left == 0:
            break
        take = min(grant.remaining, left)
        if take:
            burned[grant.id] = take
            left -= take
    return [replace(g, remaining=g.remaining - burned.get(g.id, 0)) for g in grants], left


@dataclass(frozen=True, slots=True)
class Settlement:
    grants: list[Grant]  # live grants with their exact remainders, bases reset to 0
    debt: int  # consumption no grant could pay (only with an overdraft allowance)


def settle(grants: Iterable[Grant], unsettled: int) -> Settlement:
    """Allocate ``unsettled`` consumption to grants, segment by segment. Exhausted grants are dropped.

    Consumption no grant could pay (debt, only under an overdraft allowance) is repaid by the next grants to
    arrive, in the order they arrived, before anything else."""
    pending = sorted(grants, key=lambda g: (g.base, g.arrival, g.id))
    boundaries = sorted({0, unsettled, *(g.base for g in pending)})
    debt = 0
    for start, end in zip(boundaries, [*boundaries[1:], None], strict=True):
        if debt:
            arrivals = [g for g in pending if g.base == start]
            pending = [g for g in pending if g.base != start]
            for grant in arrivals:
                take = min(grant.remaining, debt)
                debt -= take
                pending.append(replace(grant, remaining=grant.remaining - take))
        if end is None:
            break
        eligible = [g for g in pending if g.base <= start]
        later = [g for g in pending if g.base > start]
        eligible, debt = burn(eligible, end - start + debt)
        pending = eligible + later
    live = [replace(g, base=0, arrival=0) for g in pending if g.remaining > 0]
    return Settlement(grants=live, debt=debt)


def next_expiry(grants: Iterable[Grant]) -> int | None:
    expiries = [g.expires_at for g in grants if g.expires_at is not None]
    return min(expiries) if expiries else None

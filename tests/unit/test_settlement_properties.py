"""settle() against a reference that burns every consumption the moment it happens.

The reference keeps grants with their remainders. Each consumption is burned at once, in burn order, from the
grants that exist at that moment; what no grant can pay stays as debt, which the next grants to arrive repay
first, in the order they arrive. The ledger instead only counts consumption and remembers each grant's
``base`` (consumption since the last settlement when it arrived) and arrival; settle() must come to the same
remainders and the same debt.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.grants import Grant, settle

SOURCES = ("purchase", "auto_top_up", "promotional", "subscription", "adjustment")
FREE_SOURCES = ("promotional", "subscription")


@dataclass
class RefGrant:
    id: str
    remaining: int
    source: str
    priority: int
    created_at: int
    expires_at: int | None

    def order(self) -> tuple[float, float, int, int, str]:
        expiry = math.inf if self.expires_at is None else self.expires_at
        return (self.priority, expiry, 0 if self.source in FREE_SOURCES else 1, self.created_at, self.id)


class Reference:
    def __init__(self) -> None:
        self.grants: list[RefGrant] = []
        self.debt = 0

    def _pay(self, amount: int) -> int:
        for grant in sorted(self.grants, key=RefGrant.order):
            take = min(grant.remaining, amount)
            grant.remaining -= take
            amount -= take
        return amount

    def add(self, grant: RefGrant) -> None:
        repaid = min(grant.remaining, self.debt)
        grant.remaining -= repaid
        self.debt -= repaid
        self.grants.append(grant)

    def consume(self, amount: int) -> None:
        self.debt = self._pay(self.debt + amount)

    def settle(self) -> None:
        self.debt = self._pay(self.debt)

    def remainders(self) -> dict[str, int]:
        return {g.id: g.remaining for g in self.grants if g.remaining > 0}


class Ledger:
    """The ledger's bookkeeping: an ``unsettled`` counter, grants with bases, settle() when it settles."""

    def __init__(self) -> None:
        self.grants: list[Grant] = []
        self.grants_seen: list[str] = []  # arrival order, as the account's seq records it
        self.unsettled = 0

    def add(self, grant: RefGrant) -> None:
        self.grants_seen.append(grant.id)
        self.grants.append(
            Grant(
                id=grant.id,
                amount=grant.remaining,
                remaining=grant.remaining,
                source=grant.source,
                priority=grant.priority,
                created_at=grant.created_at,
                expires_at=grant.expires_at,
                base=self.unsettled,
                arrival=len(self.grants_seen),
            )
        )

    def consume(self, amount: int) -> None:
        self.unsettled += amount

    def settle(self) -> tuple[dict[str, int], int]:
        settlement = settle(self.grants, self.unsettled)
        self.grants, self.unsettled = settlement.grants, settlement.debt
        return {g.id: g.remaining for g in settlement.grants}, settlement.debt


amounts = st.one_of(st.integers(1, 60), st.integers(1, 10**12))
grant_events = st.tuples(
    st.just("grant"),
    amounts,
    st.integers(0, 3),  # priority
    st.one_of(st.none(), st.integers(1, 4)),  # expires_at: few values, so ties happen
    st.sampled_from(SOURCES),
    st.integers(0, 1),  # milliseconds since the previous grant: 0 makes created_at ties
)
consume_events = st.tuples(st.just("consume"), amounts)
settle_events = st.tuples(st.just("settle"))


def grant_id(n: int) -> str:
    """Ids in an order unrelated to arrival, as the ledger's digests are."""
    return "grt_" + hashlib.sha256(str(n).encode()).hexdigest()[:8]


def run(events: list[tuple]) -> tuple[Reference, Ledger]:
    """Feed both sides; compare at every settlement (the ledger reports only then)."""
    reference, ledger = Reference(), Ledger()
    clock = 0
    for n, event in enumerate(events):
        if event[0] == "grant":
            _, amount, priority, expires_at, source, tick = event
            clock += tick
            grant = RefGrant(grant_id(n), amount, source, priority, clock, expires_at)
            reference.add(RefGrant(**vars(grant)))
            ledger.add(grant)
        elif event[0] == "consume":
            reference.consume(event[1])
            ledger.consume(event[1])
        else:
            reference.settle()
            assert ledger.settle() == (reference.remainders(), reference.debt)
    return reference, ledger


@settings(max_examples=400)
@given(st.lists(st.one_of(grant_events, consume_events), max_size=40))
def test_one_settlement_equals_burning_each_consumption_as_it_happened(events: list[tuple]) -> None:
    reference, ledger = run(events)
    reference.settle()
    remainders, debt = ledger.settle()
    assert remainders == reference.remainders()
    assert debt == reference.debt


@settings(max_examples=300)
@given(st.lists(st.one_of(grant_events, consume_events, settle_events), max_size=50))
def test_settling_in_steps_equals_settling_at_those_moments(events: list[tuple]) -> None:
    """After a settlement the ledger restarts ``unsettled`` at the debt left; later grants' bases count from it."""
    reference, ledger = run(events)
    reference.settle()
    assert ledger.settle() == (reference.remainders(), reference.debt)


@settings(max_examples=200)
@given(st.lists(st.one_of(grant_events, consume_events), max_size=30))
def test_settling_twice_changes_nothing(events: list[tuple]) -> None:
    _, ledger = run(events)
    first = ledger.settle()
    assert ledger.settle() == first
    assert all(g.base == 0 and g.remaining > 0 for g in ledger.grants)


@settings(max_examples=200)
@given(st.lists(st.one_of(grant_events, consume_events), max_size=30))
def test_credits_are_conserved(events: list[tuple]) -> None:
    """Σ remaining - debt = Σ granted - Σ consumed, whatever the order."""
    _, ledger = run(events)
    granted = sum(e[1] for e in events if e[0] == "grant")
    consumed = sum(e[1] for e in events if e[0] == "consume")
    remainders, debt = ledger.settle()
    assert sum(remainders.values()) - debt == granted - consumed
    assert debt == 0 or not remainders

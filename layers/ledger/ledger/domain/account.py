"""The account as the ledger sees it: figures, and (when a use case read them) live grants and open holds.

The account item itself holds no grant or hold: ``grants`` and ``holds`` are filled from their own items by
the reads that need them (a settlement, the balance card), and only with the ones that matter to them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.domain.grants import Grant


@dataclass(frozen=True, slots=True)
class OpenHold:
    id: str
    amount: int
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    exists: bool = False
    balance: int = 0
    held: int = 0
    seq: int = 0
    unsettled: int = 0
    lifetime_added: int = 0
    lifetime_spent: int = 0
    lifetime_expired: int = 0
    lifetime_clawed_back: int = 0  # taken back by refunds and disputes
    hard_limit: int = 0
    low_balance_threshold: int | None = None  # None: the deployment's default
    due: int | None = None
    last_payment_at: str | None = None
    top_up_threshold: int | None = None  # while auto top-up is on
    grants: list[Grant] = field(default_factory=list)
    holds: list[OpenHold] = field(default_factory=list)
    daily_spend: dict[str, int] = field(default_factory=dict)  # yyyymmdd → credits consumed
    # grants that arrived since the last settlement: grant id → (base, arrival), see domain/grants.py
    pending: dict[str, tuple[int, int]] = field(default_factory=dict)
    priorities: frozenset[int] = frozenset()  # the priorities of its grant items
    grant_items: int = 0  # live grant items (used-up ones count until a settlement deletes them)
    arrived: int = 0  # grants ever arrived (settlements are conditioned on it)
    settlements: int = 0  # settlements ever written (each is conditioned on the count it read)
    holds_placed: int = 0  # holds ever placed (a settlement that moves ``due`` is conditioned on it)
    # a hot account (store/shards.py): its spend shards, and what it has lent them and they have not posted
    shards: int = 0
    allotted: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def spendable(self) -> int:
        """What a debit may take: available down to the floor."""
        return self.available - self.hard_limit

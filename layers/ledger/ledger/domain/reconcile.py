"""Reconciliation rules: what must hold between an account's entries, its figures, its grants and its holds.

Pure: the use case (usecases/reconcile.py) reads the items and hands them here. Each broken rule is a
``Drift`` with a stable ``kind``, what was expected, what was found and the items involved.

- The history: entries numbered 1, 2, 3… without gap or repeat, each ``balance_after`` the previous one plus
  its amount; the last entry's balance and held are the account's.
- The figures: lifetime_added - lifetime_spent - lifetime_expired - lifetime_clawed_back = balance.
- The holds: held = the sum of the open holds.
- The grants: balance = the stored remainders of the grant items - the consumption not yet allocated to them
  (``unsettled``; more of it than the remainders is a debt); no remainder is negative.
- Expiry: no grant and no open hold more than ``grace`` past its expiry (the sweep settles them every period).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.account import Account


@dataclass(frozen=True, slots=True)
class Drift:
    account_id: str
    kind: str
    message: str
    expected: Any = None
    found: Any = None
    items: tuple[str, ...] = ()

    def to_map(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "kind": self.kind,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "items": list(self.items),
        }


@dataclass(frozen=True, slots=True)
class Checked:
    """Where a walk of the history stopped: the last entry's seq, balance and held."""

    seq: int = 0
    balance: int = 0
    held: int = 0


@dataclass
class EntryWalk:
    """Walks an account's entries oldest first, from a point already checked."""

    account_id: str
    at: Checked = field(default_factory=Checked)
    drifts: list[Drift] = field(default_factory=list)

    def add(
        self,
        seq: int,
        amount: int,
        balance_after: int | None,
        held_after: int | None,
        key: str,
        unrecorded: bool = False,
    ) -> None:
        """``unrecorded``: the journal's marker for a write whose entries it could not write (it stands for
        the seqs up to its own): reported as such, not as missing entries."""
        at = self.at
        if unrecorded and seq > at.seq:
            self.drifts.append(
                Drift(
                    self.account_id,
                    "history_unrecorded",
                    f"entries {at.seq + 1} to {seq} were not written (parked for an operator)",
                    at.seq + 1,
                    seq,
                    (key,),
                )
            )
        elif seq <= at.seq:
            self.drifts.append(
                Drift(
                    self.account_id,
                    "entry_repeated",
                    f"entry {seq} after entry {at.seq}",
                    at.seq + 1,
                    seq,
                    (key,),
                )
            )
            return
        elif seq != at.seq + 1:
            self.drifts.append(
                Drift(
                    self.account_id,
                    "entry_missing",
                    f"entries {at.seq + 1} to {seq - 1} are missing",
                    at.seq + 1,
                    seq,
                    (key,),
                )
            )
        balance = at.balance + amount
        if balance_after != balance:
            self.drifts.append(
                Drift(
                    self.account_id,
                    "running_balance",
                    f"entry {seq}: balance_after is not the previous balance plus its amount",
                    balance,
                    balance_after,
                    (key,),
                )
            )
        # go on from what the entry says, so one bad entry is reported once, not as every entry after it
        after = balance_after if isinstance(balance_after, int) else balance
        self.at = Checked(seq, after, held_after if isinstance(held_after, int) else at.held)


def check_account(
    account: Account,
    walked: Checked,
    grants: Iterable[tuple[str, int, int | None]],
    holds: Iterable[tuple[str, int, int]],
    now: int,
    grace: int,
    journal_settled: bool,
) -> list[Drift]:
    """The account's figures against its history (``walked``: the last entry), its grant items (key,
    stored remaining, expiry) and its open holds (key, amount, expiry). ``journal_settled``: the journal has
    had time to write every entry (otherwise a history behind the account is not a drift yet)."""
    a, out = account, []
    if walked.seq < a.seq:
        if journal_settled:
            out.append(
                Drift(
                    a.account_id, "history_behind", "the history lacks the latest entries", a.seq, walked.seq
                )
            )
    elif walked.seq > a.seq:
        out.append(
            Drift(
                a.account_id,
                "history_ahead",
                "the history has entries the account never made",
                a.seq,
                walked.seq,
            )
        )
    elif (walked.balance, walked.held) != (a.balance, a.held):
        out.append(
            Drift(
                a.account_id,
                "balance_vs_history",
                "the last entry's balance and held are not the account's",
                {"balance": a.balance, "held": a.held},
                {"balance": walked.balance, "held": walked.held},
            )
        )
    figures = a.lifetime_added - a.lifetime_spent - a.lifetime_expired - a.lifetime_clawed_back
    if figures != a.balance:
        out.append(
            Drift(
                a.account_id,
                "lifetime_figures",
                "lifetime added - spent - expired - clawed back is not the balance",
                a.balance,
                figures,
            )
        )
    holds = list(holds)
    open_held = sum(amount for _, amount, _ in holds)
    if open_held != a.held:
        out.append(
            Drift(
                a.account_id,
                "held_vs_holds",
                "held is not the sum of the open holds",
                a.held,
                open_held,
                tuple(k for k, _, _ in holds),
            )
        )
    grants = list(grants)
    stored = sum(remaining for _, remaining, _ in grants)
    if stored - a.unsettled != a.balance:
        out.append(
            Drift(
                a.account_id,
                "balance_vs_grants",
                "the balance is not the grants' remainders less the consumption not yet allocated to them",
                a.balance,
                stored - a.unsettled,
                tuple(k for k, _, _ in grants),
            )
        )
    for key, remaining, _ in grants:
        if remaining < 0:
            out.append(
                Drift(
                    a.account_id, "negative_grant", "a grant holds a negative remainder", 0, remaining, (key,)
                )
            )
    late = [k for k, _, expiry in grants if expiry is not None and expiry < now - grace]
    if late:
        out.append(
            Drift(
                a.account_id,
                "expiry_unsettled",
                f"grants still live more than {grace} s past their expiry",
                [],
                late,
                tuple(late),
            )
        )
    lapsed = [k for k, _, expiry in holds if expiry < now - grace]
    if lapsed:
        out.append(
            Drift(
                a.account_id,
                "hold_unreleased",
                f"holds still open more than {grace} s past their expiry",
                [],
                lapsed,
                tuple(lapsed),
            )
        )
    return out

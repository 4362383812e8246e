"""Settle an account: allocate its consumption to grants, expire grants past their expires_at, release holds
past theirs.

Writes that spend carry the condition ``due > now``; once something is due they fail, the writer calls
``settle_due`` and retries. So no credit is spent after its grant expired, even before any sweep ran, and the
consumption allocated at settlement is exactly the consumption that happened while the grant was live.

A settlement reads only what can have changed (store/grants.py: the consumed prefix of the grants in burn
order, the arrivals since the last settlement, the grants and holds that fell due and the next of each), and
writes in steps of at most one transaction each: first the consumption, 32 used-up grants at a time
(``materialize``), then the expiries, 24 grants and 12 holds at a time, the ``due`` guard staying in the past
until the last step. Each step is conditioned on the account's settlement and arrival counters (and, when it
expires, on its consumption and guard as read), so a concurrent change makes it read again and start over.
The steps before the last keep the account's available from before the settlement (``settling_from``): only
the last step crosses a threshold, for notifications and auto top-up alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain.account import Account
from ledger.domain.changes import Change, digest, epoch, iso, utcnow
from ledger.domain.errors import Busy
from ledger.domain.grants import Grant
from ledger.domain.settlement import DuePlan, plan_due
from ledger.store import schema, table
from ledger.store.account_item import SETTLING_FROM, pending_arrival_attr, pending_base_attr
from ledger.store.grants import GrantRead, grant_key, read_grants
from ledger.store.holds import lapsed_and_next
from ledger.store.results import read_account
from ledger.store.schema import account_key, hold_expiry_key
from ledger.store.writes import Cancelled, Expr, delete, stamp, transact
from ledger.usecases.hot import freeze, unfreeze

MAX_STORED = 32  # used-up grants one step deletes at most
MAX_EXPIRING = 24  # grants one step expires at most
MAX_HOLDS_PER_WRITE = 12  # lapsed holds one step releases at most (two actions each)
STEP_RETRIES = 10
MAX_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class Settled:
    expired: int  # credits expired
    released: int  # credits of expired holds freed
    changes: list[Change]

    def __add__(self, other: Settled) -> Settled:
        return Settled(
            self.expired + other.expired, self.released + other.released, self.changes + other.changes
        )


NOTHING = Settled(0, 0, [])


def settle_due(account_id: str, now: datetime | None = None) -> Settled:
    """Expire what is due on the account by ``now`` (nothing if nothing is due)."""
    return _settle(account_id, now or utcnow(), expire=True)


def settle_if_due(account_id: str, now: datetime) -> None:
    """Settle the account when something on it is due by ``now`` (one read of its guard when nothing is): what
    a write that never reached the account item's guard does first (a hot account's retry, found on its own
    record's key), so that it answers as a write on any account would."""
    due = (table.get_item(account_id, schema.ACCOUNT_SK, "due") or {}).get("due")
    if due is not None and due <= epoch(now):
        settle_due(account_id, now)


def materialize(account_id: str, now: datetime | None = None) -> Settled:
    """Allocate the consumption so far to the grants and take in the arrivals; expire nothing."""
    return _settle(account_id, now or utcnow(), expire=False)


class _Hot(Exception):
    """The account is hot: a settlement needs it frozen (usecases/hot.py)."""


def _settle(account_id: str, now: datetime, expire: bool) -> Settled:
    total = NOTHING
    token: str | None = None
    try:
        for _ in range(MAX_STEPS):
            for _ in range(STEP_RETRIES):
                try:
                    settled, more = _step(account_id, now, expire, token)
                    break
                except _Hot:
                    token = freeze(account_id, now)
                except Cancelled:
                    continue
            else:
                raise Busy("the account kept changing while it was settled; retry")
            total += settled
            if not more:
                return total
        raise Busy("the account has more to settle than one call does; retry")
    finally:
        if token is not None:
            unfreeze(account_id, token)


def _step(account_id: str, now: datetime, expire: bool, token: str | None) -> tuple[Settled, bool]:
    """One transaction of a settlement. Returns what it did and whether more is left.

    A hot account is settled frozen (``token``): its consumption not posted yet is then exactly ``allotted``,
    and is settled with the rest; the postings that bring it into ``unsettled`` later find it settled."""
    account = read_account(account_id)
    if account.shards and token is None:
        raise _Hot(account_id)
    if token is not None:
        account = replace(account, unsettled=account.unsettled + account.allotted)
    at = epoch(now)
    # with ``expire``, a guard that is set is checked against what is due now: expired if it has come, else
    # moved to the next expiry if it is earlier than that (a used-up grant's, a captured hold's)
    due_now = expire and account.due is not None
    if not due_now and (expire or not (account.pending or (account.unsettled and account.grant_items))):
        return NOTHING, False
    read = read_grants(account, at=at if due_now else None, max_stored=MAX_STORED, max_expiring=MAX_EXPIRING)
    # arrivals after the part of the consumption settled now stay pending (partial steps only)
    grants = [g for g in read.grants if not (g.id in account.pending and g.base > read.level)]
    expiring_step = due_now and not read.partial
    holds = lapsed_and_next(account_id, at, MAX_HOLDS_PER_WRITE) if expiring_step and account.held else []
    plan = plan_due(
        replace(account, grants=grants, holds=holds),
        at if expiring_step else -1,
        MAX_HOLDS_PER_WRITE,
        level=read.level,
        cut=read.cut,
    )
    if expiring_step and not plan.expiring and not plan.expired_holds and plan.due == account.due:
        return NOTHING, False  # nothing due (a sweep read a stale index entry, or another settled it)
    changes = _changes(account_id, plan, now)
    more = read.partial or (expiring_step and plan.due is not None and plan.due <= at)
    actions = [_account_update(account, read, grants, plan, changes, expiring_step, token, more)]
    actions += _grant_writes(account_id, grants, plan)
    for hold in plan.expired_holds:
        record = Expr().when("{a_status} = {open}", a_status="status", open="open")
        record.set("status", "expired").set("released", hold.amount).set("resolved_at", iso(now))
        actions.append(record.update({"pk": schema.account_pk(account_id), "sk": schema.hold_sk(hold.id)}))
        actions.append(delete(hold_expiry_key(account_id, hold.id, hold.expires_at)))
    transact(actions)
    return Settled(expired=plan.expired, released=plan.released, changes=changes), more


def _changes(account_id: str, plan: DuePlan, now: datetime) -> list[Change]:
    return [
        Change(
            id="ent_" + digest(account_id, "expiry", g.id),
            type="expiry",
            amount=-g.remaining,
            created_at=iso(now),
            reference=g.id,
            description="unused credits expired",
            extra={"grant_id": g.id, "expires_at": g.expires_at},
        )
        for g in plan.expiring
    ] + [
        Change(
            id="ent_" + digest(account_id, "released", h.id),
            type="release",
            amount=0,
            held_delta=-h.amount,
            created_at=iso(now),
            reference=h.id,
            description="hold expired",
            record=schema.hold_sk(h.id),
            extra={"hold_id": h.id},
        )
        for h in plan.expired_holds
    ]


def _account_update(
    account: Account,
    read: GrantRead,
    grants: list[Grant],
    plan: DuePlan,
    changes: list[Change],
    expiring: bool,
    token: str | None,
    more: bool,
) -> dict[str, Any]:
    expr = Expr().counter_is("settlements", account.settlements).counter_is("arrived", account.arrived)
    expr.add("settlements", 1)
    if token is not None:  # frozen: no consumption but postings of what was read (usecases/hot.py)
        expr.when("{a_frozen} = {token}", a_frozen="frozen", token=token)
    # the consumption settled now leaves ``unsettled`` (what came since stays); the debt stays in it
    shift = read.level - plan.debt
    if expiring:
        # nothing may have been consumed since the read: it would belong to the expired grants (a frozen hot
        # account consumes nothing, but its postings move ``unsettled``: the freeze is the condition then)
        if token is None:
            expr.counter_is("unsettled", account.unsettled)
        if account.due is not None:
            expr.when("{a_due} = {due}", a_due="due", due=account.due)
    if shift:
        expr.add("unsettled", -shift)
    taken = 0
    for grant_id, (base, _) in account.pending.items():
        # taken in: settled above if it was read, else it is behind a grant not used up and got nothing
        if base <= read.level:
            expr.remove(pending_base_attr(grant_id)).remove(pending_arrival_attr(grant_id))
            taken += 1
        elif shift:
            expr.subtract(pending_base_attr(grant_id), shift)
    if taken:
        expr.add("pending", -taken)
    kept = {g.id for g in plan.kept}
    removed = [g for g in grants if g.id not in kept]
    if removed:
        expr.add("grant_items", -len(removed))
    left = {g.priority for g in grants if g.id in kept}
    left |= {g.priority for g in read.grants if g.id in account.pending and g.base > read.level}
    if empty := read.complete - left:
        expr.delete_from_set("prios", empty)
    expired, released = plan.expired, plan.released
    if expired:
        expr.add("balance", -expired).add("lifetime_expired", expired)
    if released:
        expr.add("held", -released)
    if released - expired:
        expr.add("spendable", released - expired)
    if expiring and plan.due != account.due:
        # a hold placed since the read may lapse before the guard this step moves to: it must read again (a
        # hold placed within the guard it had leaves ``due`` as it is, so ``due`` as read does not tell)
        expr.counter_is("holds_placed", account.holds_placed)
    if expiring:
        if plan.due is None:
            expr.remove("due").remove("due_pk")
        else:
            expr.set("due", plan.due).set("due_pk", schema.DUE_PK)
    if expiring and more:  # available before the settlement, for its last step to cross from
        expr.set_if_absent(SETTLING_FROM, account.available)
    elif expiring:  # a settlement's last step (``materialize`` leaves an unfinished one's mark in place)
        expr.remove(SETTLING_FROM)
    if changes:
        stamp(expr, changes)
    return expr.update(account_key(account.account_id))


def _grant_writes(account_id: str, grants: list[Grant], plan: DuePlan) -> list[dict[str, Any]]:
    """Delete the grants used up or expired; write the new remainder of those consumption reached."""
    kept = {g.id: g for g in plan.kept}
    actions = []
    for grant in grants:
        key = grant_key(account_id, grant)
        if grant.id not in kept:
            actions.append(delete(key))
        elif kept[grant.id].remaining != grant.remaining:
            actions.append(
                Expr().set("remaining", kept[grant.id].remaining).update(key, return_old_on_failure=False)
            )
    return actions

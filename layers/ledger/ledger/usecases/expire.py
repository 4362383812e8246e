"""Settle what is due on one account: expire grants past their expires_at, release holds past theirs.

Writes that spend carry the condition ``due > now``; once something is due they fail, the writer calls
``settle_due`` and retries. So no credit is spent after its grant expired, even before any sweep ran, and the
consumption allocated at settlement is exactly the consumption that happened while the grant was live.
The write is conditioned on the account's ``seq``: any concurrent change makes it start over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.changes import Change, digest, iso, utcnow
from ledger.domain.errors import Busy
from ledger.domain.grants import Grant
from ledger.domain.settlement import plan_due
from ledger.store import table
from ledger.store.account_item import (
    grant_arrival_attr,
    grant_attr,
    grant_base_attr,
    grant_map,
    hold_attr,
    parse_account,
)
from ledger.store.results import get_account_item
from ledger.store.writes import Cancelled, Expr, account_key, stamp, transact

MAX_HOLDS_PER_WRITE = 90  # a transaction holds at most 100 actions
SETTLE_RETRIES = 10


@dataclass(frozen=True, slots=True)
class Settled:
    expired: int  # credits expired
    released: int  # credits of expired holds freed
    changes: list[Change]


def settle_due(account_id: str, now: datetime | None = None) -> Settled:
    now = now or utcnow()
    for _ in range(SETTLE_RETRIES):
        try:
            return _settle_once(account_id, now)
        except Cancelled:
            continue
    raise Busy("the account kept changing while its expiry was settled; retry")


def _settle_once(account_id: str, now: datetime) -> Settled:
    item = get_account_item(account_id)
    account = parse_account(account_id, item)
    if item is None:
        return Settled(0, 0, [])
    plan = plan_due(account, int(now.timestamp()), MAX_HOLDS_PER_WRITE)
    if not plan.expiring and not plan.expired_holds and plan.due == account.due:
        return Settled(0, 0, [])  # nothing due (a sweep read a stale index entry, or another settled it)
    changes = [
        Change(
            id="ent_" + digest(account_id, "expiry", g.id),
            type="expiry",
            amount=-g.remaining,
            created_at=iso(now),
            reference=g.id,
            description="unused credits expired",
            extra={"grant_id": g.id},
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
            record=table.hold_sk(h.id),
            extra={"hold_id": h.id},
        )
        for h in plan.expired_holds
    ]
    expired, released = plan.expired, plan.released

    expr = Expr()
    if account.seq:
        expr.when("{a_seq} = {seq}", a_seq="seq", seq=account.seq)
    else:
        expr.when("attribute_not_exists({a_seq}) OR {a_seq} = {zero}", a_seq="seq", zero=0)
    _rewrite_grants(expr, account.grants, plan.kept)
    expr.set("unsettled", plan.debt)
    expr.add("balance", -expired).add("lifetime_expired", expired)
    expr.add("held", -released).add("spendable", released - expired)
    for hold in plan.expired_holds:
        expr.remove(hold_attr(hold.id))
    if plan.due is None:
        expr.remove("due").remove("due_pk")
    else:
        expr.set("due", plan.due).set("due_pk", table.DUE_PK)
    if changes:
        stamp(expr, changes)
    actions = [expr.update(account_key(account_id))]
    for hold in plan.expired_holds:
        record = Expr().when("{a_status} = {open}", a_status="status", open="open")
        record.set("status", "expired").set("released", hold.amount).set("resolved_at", iso(now))
        actions.append(record.update({"pk": table.account_pk(account_id), "sk": table.hold_sk(hold.id)}))
    transact(actions)
    return Settled(expired=expired, released=released, changes=changes)


def _rewrite_grants(expr: Expr, before: list[Grant], kept: list[Grant]) -> None:
    """Replace the grants' attributes by the settled ones: set kept grants, remove the rest and every base."""
    kept_ids = {g.id for g in kept}
    for grant in before:
        expr.remove(grant_base_attr(grant.id)).remove(grant_arrival_attr(grant.id))
        if grant.id not in kept_ids:
            expr.remove(grant_attr(grant.id))
    for grant in kept:
        expr.set(grant_attr(grant.id), grant_map(grant))

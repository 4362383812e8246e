"""Hot accounts: debits through spend shards (store/shards.py), lending to them, gathering and freezing.

- **Lend.** A shard without enough allotment borrows from the account item: one transaction takes the credits
  out of the account's ``spendable`` (on condition it has them, nothing is due and the account is not frozen)
  into the shard's ``allot``, and copies the account's ``due`` to the shard. It lends more than asked (a share
  of what the account has), so a busy shard borrows rarely.
- **Gather.** When the account item has not enough to lend, every shard's allotment goes back to it (one
  transaction, conditioned on each allotment as read), and the debit is decided against all of the account's
  credits: refused only when the account item and all shards together do not have them (one consistent read).
- **Freeze.** A settlement and a grant's arrival need the consumption exact: the account is marked ``frozen``
  (no shard may borrow), every allotment is gathered, and then ``allotted`` is exactly the consumption not yet
  posted. The write that needed it is conditioned on the freeze (``frozen`` = its token) and lifts it. A
  freeze is a lease (``frozen_until``): a writer that died leaves it for at most FREEZE_SECONDS.
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import datetime
from typing import Any

from ledger.domain.changes import utcnow
from ledger.domain.errors import Busy, InsufficientCredits, InvalidRequest, NotFound
from ledger.store import table
from ledger.store.account_item import parse_account
from ledger.store.entries import BLOCKS_FROM
from ledger.store.results import get_account_item
from ledger.store.schema import account_key, shard_key
from ledger.store.shards import MAX_SHARDS, clear_frozen, read_shards, set_frozen, snapshot
from ledger.store.writes import KEYS_MOVED, Cancelled, Expr, transact

FREEZE_SECONDS = 10
LEND_ATTEMPTS = 12
LEND_SHARE = 4  # a shard borrows at least 1/(LEND_SHARE x shards) of what the account item has


class NotHot(Exception):
    """The account is not (or no longer) hot: spend from the account item."""


class DueNow(Exception):
    """Something is due on the account: settle it (usecases/expire.py), then lend."""


class HotAccounts:
    """The shard count this process last saw per account: which accounts to debit through shards."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._shards: dict[str, int] = {}

    def shards(self, account_id: str) -> int:
        return self._shards.get(account_id, 0)

    def saw(self, account_id: str, item: dict[str, Any] | None) -> int:
        shards = (item or {}).get("shards", 0)
        if shards:
            if len(self._shards) >= self.LIMIT:
                self._shards.clear()
            self._shards[account_id] = shards
        else:
            self._shards.pop(account_id, None)
        return int(shards)


hot_accounts = HotAccounts()


def pick_shard(shards: int) -> int:
    return random.randrange(shards)


def _frozen(item: dict[str, Any], now: datetime) -> bool:
    return "frozen" in item and item.get("frozen_until", 0) > int(now.timestamp())


def lend(account_id: str, shard: int, needed: int, now: datetime, holds: int = 0) -> None:
    """Make shard ``shard`` able to spend ``needed`` while nothing is due; ``holds``: what the shard had left
    when its write was refused (from the refusal, so no read of it). Raises InsufficientCredits when the account
    and all its shards together have less than ``needed``, DueNow when something is due, NotHot when the account
    is not hot."""
    gathered = False
    for _ in range(LEND_ATTEMPTS):
        item = get_account_item(account_id) or {}
        shards = hot_accounts.saw(account_id, item)
        if not shards or shard >= shards:
            raise NotHot(account_id)
        account = parse_account(account_id, item)
        at = int(now.timestamp())
        if account.due is not None and account.due <= at:
            raise DueNow(account_id)
        if _frozen(item, now):
            time.sleep(random.uniform(0.005, 0.02))
            continue
        own = item.get("spendable", 0)
        short = needed - holds  # a stale ``holds`` costs one more refusal and lending, never a wrong write
        if short > own:
            if gathered:
                _refuse_unless_there(account_id, shards, needed)
            gather(account_id, shards)
            gathered, holds = True, 0
            continue
        amount = max(short, 0, min(own, max(needed, own // (LEND_SHARE * shards))))
        try:
            transact(_lending(account_id, item, shard, amount, now))
            return
        except Cancelled:
            continue
    raise Busy("the account is too contended right now; retry with the same idempotency key")


def _lending(
    account_id: str, item: dict[str, Any], shard: int, amount: int, now: datetime
) -> list[dict[str, Any]]:
    at = int(now.timestamp())
    lender = Expr().when("{a_spendable} >= {amount}", a_spendable="spendable", amount=amount)
    lender.when("{a_shards} = {shards}", a_shards="shards", shards=item["shards"])
    lender.when("attribute_not_exists({a_f}) OR {a_fu} <= {now}", a_f="frozen", a_fu="frozen_until", now=at)
    due = item.get("due")
    if due is None:
        lender.when("attribute_not_exists({a_due})", a_due="due")
    else:
        lender.when("{a_due} = {due}", a_due="due", due=due)
    lender.add("spendable", -amount).add("allotted", amount)
    if "frozen" in item:  # a lapsed freeze: whoever held it finds its token gone
        lender.remove("frozen").remove("frozen_until")
    borrower = Expr().add("allot", amount)
    for copied in ("due", KEYS_MOVED):  # what the shard's writes are conditioned on, as the account has it
        if item.get(copied) is None:
            borrower.remove(copied)
        else:
            borrower.set(copied, item[copied])
    return [lender.update(account_key(account_id)), borrower.update(shard_key(account_id, shard))]


def gather(account_id: str, shards: int) -> int:
    """Take every shard's allotment back into the account item; returns how much came back."""
    for _ in range(LEND_ATTEMPTS):
        lent = [s for s in read_shards(account_id, shards) if s.allot]
        if not lent:
            return 0
        total = sum(s.allot for s in lent)
        actions = [
            Expr()
            .when("{a_allot} = {allot}", a_allot="allot", allot=s.allot)
            .set("allot", 0)
            .update(shard_key(account_id, s.index), return_old_on_failure=False)
            for s in lent
        ]
        back = Expr().add("spendable", total).add("allotted", -total)
        actions.append(back.update(account_key(account_id), return_old_on_failure=False))
        try:
            transact(actions)
            return total
        except Cancelled:
            continue
    raise Busy("the account is too contended right now; retry with the same idempotency key")


def _refuse_unless_there(account_id: str, shards: int, needed: int) -> None:
    """One consistent read of the account item and every shard: refuse when together they cannot pay."""
    item, allots = snapshot(account_id, shards)
    account = parse_account(account_id, item)
    spendable = item.get("spendable", 0) + allots
    if spendable < needed:
        raise InsufficientCredits(spendable + account.hard_limit, needed, account.hard_limit)


def make_room(account_id: str, old_account: dict[str, Any] | None, amount: int) -> bool:
    """A write of the account item that needs ``amount`` of its own ``spendable`` was refused: for a hot
    account, take back what its shards hold and say to try again (True), or raise InsufficientCredits when
    even all its credits together are not enough. False for any other account (the refusal stands)."""
    old_account = old_account or {}
    shards = old_account.get("shards", 0)
    if not shards or old_account.get("spendable", 0) >= amount:
        return False
    gather(account_id, shards)
    _refuse_unless_there(account_id, shards, amount)
    return True


def due_lowered(account_id: str) -> None:
    """A write lowered the account's ``due`` (a hold lapsing sooner than anything else). A hot account's shards
    keep the older copy, so their allotments come back and they borrow again, copying the new one. A lapsed
    hold does not change what may be spent, so debits are exact without this; it keeps a hot account settled
    when any account would be."""
    # no read for it: an account this process has not seen hot keeps its shards' copy until they borrow again
    if shards := hot_accounts.shards(account_id):
        gather(account_id, shards)


# freezing ----------------------------------------------------------------------------------------------------


def freeze(account_id: str, now: datetime) -> str | None:
    """Freeze a hot account and gather its shards' allotments; returns the freeze's token (None when the
    account is not hot: nothing to freeze)."""
    token = secrets.token_hex(8)
    item = set_frozen(account_id, token, int(now.timestamp()) + FREEZE_SECONDS)
    if item is None:
        hot_accounts.saw(account_id, None)
        return None
    shards = hot_accounts.saw(account_id, item)
    gather(account_id, shards)
    return token


def frozen_by(expr: Expr, token: str | None) -> Expr:
    """Condition a write on the account not being hot, or being frozen by ``token`` (and lift the freeze)."""
    if token is None:
        return expr.when("attribute_not_exists({a_shards})", a_shards="shards")
    expr.when("{a_frozen} = {token}", a_frozen="frozen", token=token)
    return expr.remove("frozen").remove("frozen_until")


def unfreeze(account_id: str, token: str) -> None:
    clear_frozen(account_id, token)


def is_hot_refusal(old_account: dict[str, Any] | None) -> bool:
    """A write of the account item refused because the account is hot (and not frozen by the writer)."""
    return bool((old_account or {}).get("shards"))


# marking an account hot ----------------------------------------------------------------------------------------


def set_spend_shards(account_id: str, shards: int, now: datetime | None = None) -> int:
    """Make the account hot with ``shards`` spend shards (2 to MAX_SHARDS), or not hot (0)."""
    if type(shards) is not int or not (shards == 0 or 2 <= shards <= MAX_SHARDS):
        raise InvalidRequest(f"shards must be 0 (not hot) or from 2 to {MAX_SHARDS}")
    now = now or utcnow()
    item = get_account_item(account_id)
    if item is None:
        raise NotFound(f"no account {account_id!r}", account_id=account_id)
    token = freeze(account_id, now) if item.get("shards") else None
    expr = frozen_by(Expr(), token)
    if shards:
        expr.set("shards", shards)
        if BLOCKS_FROM not in item:  # its entries from the next write on go to blocks (store/entries.py)
            expr.copy_plus(BLOCKS_FROM, "seq", 1).when("attribute_not_exists({a_b})", a_b=BLOCKS_FROM)
    else:
        expr.remove("shards")
    actions = []
    if bool(shards) != bool(item.get("shards")):  # its usage records change place: retries check both
        until = int((now + table.IDEMPOTENCY_TTL).timestamp())
        expr.set(KEYS_MOVED, until)
        # the shards too (their writes check their own copy): each has lent nothing (frozen, or never hot)
        count = max(shards, item.get("shards", 0))
        actions = [Expr().set(KEYS_MOVED, until).update(shard_key(account_id, k)) for k in range(count)]
    try:
        transact([expr.update(account_key(account_id)), *actions])
    except Cancelled:
        raise Busy("the account changed while it was made hot; retry") from None
    hot_accounts.saw(account_id, {"shards": shards})
    return shards

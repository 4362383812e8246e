"""Spend shards of a hot account: the items its debits write instead of the account item.

An account item takes 1,000 WCU/s, so at 2 WCU per transactional write about 500 debits/s, and its partition
the same 1,000 WCU/s for everything written under it. A hot account (``shards`` = N on its account item)
spreads its debits over N shard items, each on a partition key of its own (``ACCOUNT#<id>#S<k>``, ``sk = "S"``):

    allot     credits this shard may still spend: lent by the account item, which took them out of its own
              ``spendable`` and counts them in ``allotted`` (the account never lends what it does not have)
    due       the account's ``due`` when it last lent: the shard spends nothing from that moment on
    seq       writes the shard made; ``last``: the changes of the latest (or the batch item holding them)

A debit is one conditional write of a shard (``allot >= amount``, ``due > now``) and its idempotency record,
each on a partition key of its own. The account item learns of it when the journal *posts* it from the
stream: one conditional write of the account item (on ``ps<k>``, the shard writes posted so far) applies the
changes of consecutive shard writes and advances the account's ``seq``, so they take their place in the one
numbered history. Until then the account item counts them in ``allotted``: ``allotted`` = sum of shards'
``allot`` + their unposted consumption, and ``spendable`` + ``allotted`` = balance - held - hard_limit.

What needs the consumption exact (a settlement, a grant's arrival) first *freezes* the account
(usecases/hot.py): no shard may borrow, every shard's allotment goes back, and then ``allotted`` is exactly the
consumption not yet posted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ledger.domain.account import Account
from ledger.domain.changes import Change, parse_iso
from ledger.store import schema, table
from ledger.store.account_item import daily_spend_attr, parse_account, stale_daily_spend_attr
from ledger.store.batches import BATCH_TTL
from ledger.store.schema import account_key, shard_key, shard_of
from ledger.store.writes import Expr

MAX_SHARDS = 32


def posted_attr(shard: int) -> str:
    """The account item's count of shard ``shard``'s writes already posted."""
    return f"ps{shard}"


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    allot: int = 0
    due: int | None = None
    seq: int = 0


def parse_shard(index: int, item: dict[str, Any] | None) -> Shard:
    item = item or {}
    return Shard(index, item.get("allot", 0), item.get("due"), item.get("seq", 0))


def read_shards(account_id: str, count: int) -> list[Shard]:
    """The account's first ``count`` shards, each strongly consistent as of its own read."""
    found = {}
    for item in table.batch_get([shard_key(account_id, k) for k in range(count)]):
        if (located := shard_of(item["pk"])) is not None:
            found[located[1]] = item
    return [parse_shard(k, found.get(k)) for k in range(count)]


def spend(shard: int, amount: int, now: datetime) -> Expr:
    """The shard's part of a debit (or of a batch chunk of ``amount`` in all): spend from its allotment while
    nothing is due, and advance its seq. The caller sets ``last``."""
    expr = Expr().when("{a_allot} >= {amount}", a_allot="allot", amount=amount)
    expr.when("attribute_not_exists({a_due}) OR {a_due} > {now}", a_due="due", now=int(now.timestamp()))
    expr.add("allot", -amount).add("seq", 1)
    return expr


def snapshot(account_id: str, shards: int) -> tuple[dict[str, Any], int]:
    """One consistent read of the account item and its shards: the item, and what the shards hold."""
    keys = [account_key(account_id)] + [shard_key(account_id, k) for k in range(shards)]
    response = table.client().transact_get_items(
        TransactItems=[{"Get": {"TableName": table.table_name(), "Key": table.to_item(k)}} for k in keys]
    )
    items = [table.from_item(r.get("Item")) or {} for r in response["Responses"]]
    return items[0], sum(parse_shard(k, items[k + 1]).allot for k in range(shards))


def hot_view(account_id: str, account: Account, now: datetime) -> Account:
    """A hot account as it is now: its figures with the consumption its shards have not posted yet (what it
    has lent them and they no longer hold). Any other account as it is."""
    if not account.shards and not account.allotted:
        return account
    # shards beyond the account's count (it had more once) were emptied when it changed: they hold nothing
    item, allots = snapshot(account_id, account.shards)
    account = parse_account(account_id, item)
    unposted = account.allotted - allots
    spend = dict(account.daily_spend)
    today = now.strftime("%Y%m%d")
    spend[today] = spend.get(today, 0) + unposted
    return replace(
        account,
        balance=account.balance - unposted,
        unsettled=account.unsettled + unposted,
        lifetime_spent=account.lifetime_spent + unposted,
        daily_spend=spend,
    )


# posting ------------------------------------------------------------------------------------------------------


def post(account_id: str, shard: int, writes: list[tuple[int, list[Change]]], now: datetime) -> int:
    """Apply consecutive shard writes (``(seq, changes)``, in order) to the account item, once each.

    Returns how many writes this call posted; those posted before (a redelivered stream record) are skipped.
    Raises LookupError when an earlier write of the shard is not posted yet (the stream delivers a shard's
    writes in order, so only a record that failed and was redelivered out of order can see that)."""
    while writes:
        first, last = writes[0][0], writes[-1][0]
        changes = [c for _, made in writes for c in made]
        table.client().put_item(
            TableName=table.table_name(),
            Item=table.to_item(
                {
                    **schema.posting_key(account_id, shard, first, last),
                    "changes": [c.to_map() for c in changes],
                    "ttl": int((now + BATCH_TTL).timestamp()),
                }
            ),
        )
        try:
            table.client().update_item(**_posting(account_id, shard, first, last, changes, now))
            return len(writes)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        posted = (table.get_item(account_id, schema.ACCOUNT_SK, posted_attr(shard)) or {}).get(
            posted_attr(shard), 0
        )
        if posted < first - 1:
            raise LookupError(f"shard {shard} of account {account_id}: write {posted + 1} is not posted yet")
        writes = [(seq, made) for seq, made in writes if seq > posted]
    return 0


def _posting(
    account_id: str, shard: int, first: int, last: int, changes: list[Change], now: datetime
) -> dict[str, Any]:
    spent = -sum(c.amount for c in changes)
    by_day: dict[str, int] = defaultdict(int)
    for change in changes:
        by_day[parse_iso(change.created_at).strftime("%Y%m%d")] -= change.amount
    stale = stale_daily_spend_attr(now)
    expr = Expr().counter_is(posted_attr(shard), first - 1)
    expr.set(posted_attr(shard), last)
    expr.add("balance", -spent).add("allotted", -spent).add("unsettled", spent).add("lifetime_spent", spent)
    for day, credits in sorted(by_day.items()):
        expr.add(daily_spend_attr(day), credits)
    if stale not in {daily_spend_attr(day) for day in by_day}:
        expr.remove(stale)
    expr.add("seq", len(changes))
    expr.set("last", [{"posted": shard, "from": first, "to": last, "count": len(changes)}])
    expr.set("schema", schema.SCHEMA_VERSION)
    action = expr.update(account_key(account_id), return_old_on_failure=False)
    return dict(action["Update"])


def set_frozen(account_id: str, token: str, until: int) -> dict[str, Any] | None:
    """Mark a hot account frozen by ``token`` until ``until`` (epoch seconds); its account item as written, or
    None when the account is not hot."""
    try:
        response = table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_item(account_key(account_id)),
            UpdateExpression="SET #f = :t, #fu = :u",
            ConditionExpression="attribute_exists(#s)",
            ExpressionAttributeNames={"#f": "frozen", "#fu": "frozen_until", "#s": "shards"},
            ExpressionAttributeValues=table.to_item({":t": token, ":u": until}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return None
    return table.from_item(response["Attributes"])


def clear_frozen(account_id: str, token: str) -> None:
    """Lift the freeze ``token`` made (nothing, if another write lifted it already)."""
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_item(account_key(account_id)),
            UpdateExpression="REMOVE #f, #fu",
            ConditionExpression="#f = :t",
            ExpressionAttributeNames={"#f": "frozen", "#fu": "frozen_until"},
            ExpressionAttributeValues=table.to_item({":t": token}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise

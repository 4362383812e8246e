"""The auto top-up item: an account's settings and the state of its charges.

pk = ACCOUNT#<account_id>, sk = "AT" (sorts between the account item and its entries, so the balance card's
one Query reads it too).

Sparse GSI ``top_up`` (top_up_pk, check_at), every attribute projected: only accounts with auto top-up on
are in it, keyed by when the safety net should look at them next: at once (0) when idle, at the end of the
cooldown after a failure, when an in-flight charge turns stale. The account item carries a copy of the
threshold (``top_up_threshold``, only while auto top-up is on) so the stream sees crossings in its images.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ledger.domain.changes import epoch
from ledger.domain.top_up import Attempt, PaymentMethod, TopUp
from ledger.store import schema, table
from ledger.store.schema import TOP_UP_INDEX, TOP_UP_INDEX_PK, TOP_UP_SK, account_id_of, top_up_key
from ledger.store.writes import Cancelled, Expr, transact

THRESHOLD_ON_ACCOUNT = "top_up_threshold"


def parse_top_up(account_id: str, item: dict[str, Any] | None) -> TopUp:
    if not item:
        return TopUp(account_id=account_id)
    method = item.get("payment_method")
    result = item.get("last_result")
    return TopUp(
        account_id=account_id,
        enabled=item.get("enabled", False),
        threshold=item.get("threshold"),
        amount=item.get("amount"),
        payment_method=PaymentMethod(**method) if method else None,
        disabled_reason=item.get("disabled_reason"),
        failures=item.get("failures", 0),
        retry_at=item.get("retry_at"),
        in_flight=item.get("in_flight"),
        claimed_at=item.get("claimed_at"),
        claimed_seq=item.get("claimed_seq"),
        claimed_spent=item.get("claimed_spent", 0),
        last_attempt_at=item.get("last_attempt_at"),
        last_result=Attempt(**result) if result else None,
        version=item.get("version", 0),
    )


def get_top_up(account_id: str) -> TopUp:
    return parse_top_up(account_id, table.get_item(account_id, TOP_UP_SK))


def attempt_map(attempt: Attempt) -> dict[str, Any]:
    return {k: v for k, v in asdict(attempt).items() if v is not None}


def method_map(method: PaymentMethod) -> dict[str, Any]:
    return {k: v for k, v in asdict(method).items() if v is not None}


def read_with_account(account_id: str) -> tuple[dict[str, Any] | None, TopUp]:
    """The account item and the auto top-up item in one strongly consistent Query ("A" sorts before "AT")."""
    items = [
        table.from_item(raw) or {}
        for raw in table.client()
        .query(
            TableName=table.table_name(),
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :at",
            ExpressionAttributeValues=table.to_item(
                {":pk": schema.account_pk(account_id), ":a": schema.ACCOUNT_SK, ":at": TOP_UP_SK}
            ),
            ConsistentRead=True,
        )
        .get("Items", [])
    ]
    by_sk = {item["sk"]: item for item in items}
    return by_sk.get(schema.ACCOUNT_SK), parse_top_up(account_id, by_sk.get(TOP_UP_SK))


def to_check(now: datetime, page_size: int) -> Iterator[list[TopUp]]:
    """The accounts in the ``top_up`` index due a look by ``now`` (``check_at <= now``), one page at a time."""
    pages = table.query_pages(
        IndexName=TOP_UP_INDEX,
        KeyConditionExpression="top_up_pk = :pk AND check_at <= :now",
        ExpressionAttributeValues=table.to_item({":pk": TOP_UP_INDEX_PK, ":now": epoch(now)}),
        Limit=page_size,
    )
    for items in pages:
        yield [parse_top_up(account_id_of(item["pk"]), item) for item in items]


def forget(account_id: str) -> None:
    """Take an account whose auto top-up is off out of the index (unless it was turned on again meanwhile)."""
    expr = Expr().when(
        "{a_e} = {no} AND attribute_not_exists({a_f})", a_e="enabled", no=False, a_f="in_flight"
    )
    expr.remove("top_up_pk").remove("check_at")
    with suppress(Cancelled):
        transact([expr.update(top_up_key(account_id), return_old_on_failure=False)])

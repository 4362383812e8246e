"""The auto top-up item: an account's settings and the state of its charges.

pk = ACCOUNT#<account_id>, sk = "AT" (sorts between the account item and its entries, so the balance card's
one Query reads it too).

Sparse GSI ``top_up`` (top_up_pk, check_at), every attribute projected: only accounts with auto top-up on
are in it, keyed by when the safety net should look at them next: at once (0) when idle, at the end of the
cooldown after a failure, when an in-flight charge turns stale. The account item carries a copy of the
threshold (``top_up_threshold``, only while auto top-up is on) so the stream sees crossings in its images.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ledger.domain.top_up import Attempt, PaymentMethod, TopUp
from ledger.store import schema, table
from ledger.store.schema import TOP_UP_SK

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

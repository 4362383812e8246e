"""Transactional writes: expression building, cancellation reasons, the account update every change makes."""

from __future__ import annotations

import builtins
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ledger.domain.changes import Change
from ledger.domain.errors import Busy
from ledger.store import schema, table
from ledger.store.account_item import daily_spend_attr, stale_daily_spend_attr

CONFLICT_RETRIES = 8


@dataclass
class Expr:
    """Accumulates an update: SET/REMOVE clauses, a condition, names and values with generated placeholders."""

    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    set_adds: list[str] = field(default_factory=list)  # ADD elements to a set attribute
    set_deletes: list[str] = field(default_factory=list)  # DELETE elements from a set attribute
    conditions: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attr: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attr
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def add(self, attr: str, amount: int) -> Expr:
        """attr = attr + amount (starting from 0)."""
        n = self.name(attr)
        self.sets.append(f"{n} = if_not_exists({n}, {self.value(0)}) + {self.value(amount)}")
        return self

    def set(self, attr: str, value: Any) -> Expr:
        self.sets.append(f"{self.name(attr)} = {self.value(value)}")
        return self

    def set_if_absent(self, attr: str, value: Any) -> Expr:
        """attr = value, unless the item already has one (the first writer wins)."""
        n = self.name(attr)
        self.sets.append(f"{n} = if_not_exists({n}, {self.value(value)})")
        return self

    def set_path(self, path: tuple[str, ...], value: Any) -> Expr:
        """A nested attribute (``("disputes", dispute_id, "status")``) = value."""
        self.sets.append(f"{self._path(path)} = {self.value(value)}")
        return self

    def path_is(self, path: tuple[str, ...], value: Any) -> Expr:
        """Condition: the nested attribute holds ``value``."""
        self.conditions.append(f"{self._path(path)} = {self.value(value)}")
        return self

    def _path(self, path: tuple[str, ...]) -> str:
        return ".".join(self.name(part) for part in path)

    def remove(self, attr: str) -> Expr:
        self.removes.append(self.name(attr))
        return self

    def copy(self, attr: str, source: str, default: Any = 0) -> Expr:
        """attr = source's value (``default`` when it has none): how a write records another figure's value."""
        n, src = self.name(attr), self.name(source)
        self.sets.append(f"{n} = if_not_exists({src}, {self.value(default)})")
        return self

    def copy_sum(self, attr: str, first: str, second: str) -> Expr:
        """attr = first + second (each absent = 0)."""
        n, a, b, zero = self.name(attr), self.name(first), self.name(second), self.value(0)
        self.sets.append(f"{n} = if_not_exists({a}, {zero}) + if_not_exists({b}, {zero})")
        return self

    def copy_plus(self, attr: str, source: str, amount: int) -> Expr:
        """attr = source + amount (source absent = 0), as the item is when the write applies."""
        n, src, zero = self.name(attr), self.name(source), self.value(0)
        self.sets.append(f"{n} = if_not_exists({src}, {zero}) + {self.value(amount)}")
        return self

    def subtract(self, attr: str, amount: int) -> Expr:
        """attr = attr - amount, for an attribute that exists."""
        n = self.name(attr)
        self.sets.append(f"{n} = {n} - {self.value(amount)}")
        return self

    def add_to_set(self, attr: str, values: builtins.set[int]) -> Expr:
        self.set_adds.append(f"{self.name(attr)} {self.value(values)}")
        return self

    def delete_from_set(self, attr: str, values: builtins.set[int]) -> Expr:
        self.set_deletes.append(f"{self.name(attr)} {self.value(values)}")
        return self

    def counter_is(self, attr: str, value: int) -> Expr:
        """A condition that the counter ``attr`` (absent = 0) still has the value read."""
        if value:
            return self.when("{a_c} = {v}", a_c=attr, v=value)
        return self.when("attribute_not_exists({a_c}) OR {a_c} = {v}", a_c=attr, v=0)

    def when(self, condition: str, **operands: Any) -> Expr:
        """A condition; ``{name}`` and ``{value}`` style fields are replaced by placeholders.

        Fields named ``a_*`` are attribute names, any other is a value."""
        mapped = {k: self.name(v) if k.startswith("a_") else self.value(v) for k, v in operands.items()}
        self.conditions.append("(" + condition.format(**mapped) + ")")
        return self

    def update(self, key: dict[str, str], *, return_old_on_failure: bool = True) -> dict[str, Any]:
        expression = ""
        if self.sets:
            expression += "SET " + ", ".join(self.sets)
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        if self.set_adds:
            expression += " ADD " + ", ".join(self.set_adds)
        if self.set_deletes:
            expression += " DELETE " + ", ".join(self.set_deletes)
        action: dict[str, Any] = {
            "TableName": table.table_name(),
            "Key": table.to_item(key),
            "UpdateExpression": expression.strip(),
        }
        if self.conditions:
            action["ConditionExpression"] = " AND ".join(self.conditions)
        if self.names:
            action["ExpressionAttributeNames"] = self.names
        if self.values:
            action["ExpressionAttributeValues"] = table.to_item(self.values)
        if return_old_on_failure:
            action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": action}


def delete(key: dict[str, str]) -> dict[str, Any]:
    return {"Delete": {"TableName": table.table_name(), "Key": table.to_item(key)}}


def put(item: dict[str, Any], *, only_if_new: bool = True) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": table.table_name(), "Item": table.to_item(item)}
    if only_if_new:
        action["ConditionExpression"] = "attribute_not_exists(pk)"
        action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Put": action}


def stamp(expr: Expr, changes: list[Change]) -> Expr:
    """Every write that changes the account advances ``seq``, leaves its changes in ``last`` and records the
    layout it wrote (``schema``)."""
    expr.add("seq", len(changes))
    expr.set("last", [c.to_map() for c in changes])
    expr.set("schema", schema.SCHEMA_VERSION)
    return expr


def stamp_batch(expr: Expr, batch_sk: str, count: int) -> Expr:
    """A write that applies ``count`` usage events of a batch: ``last`` names the batch item holding their
    changes (store/batches.py), so the account item stays small."""
    expr.add("seq", count)
    expr.set("last", [{"batch": batch_sk, "count": count}])
    expr.set("schema", schema.SCHEMA_VERSION)
    return expr


def not_hot(expr: Expr) -> Expr:
    """A debit of the account item itself: only while the account is not hot (a hot account spends through
    its shards, store/shards.py)."""
    return expr.when("attribute_not_exists({a_shards})", a_shards="shards")


KEYS_MOVED = "keys_moved_until"  # usage records moved place (hot or not) until then: check both places


def keys_in_place(expr: Expr, now: datetime) -> Expr:
    """A usage write that checks its record in one place only: while the account's (or shard's) records have
    not moved recently. Otherwise the write checks the other place too (``absent``)."""
    return expr.when(
        "attribute_not_exists({a_k}) OR {a_k} <= {now}", a_k=KEYS_MOVED, now=int(now.timestamp())
    )


def keys_moving(old: dict[str, Any] | None, now: datetime) -> bool:
    return bool((old or {}).get(KEYS_MOVED, 0) > int(now.timestamp()))


def absent(key: dict[str, str]) -> dict[str, Any]:
    """A check in a transaction that an item (an idempotency record in its other place) does not exist."""
    return {
        "ConditionCheck": {
            "TableName": table.table_name(),
            "Key": table.to_item(key),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def guard_due(expr: Expr, now: datetime) -> Expr:
    """Refuse to spend while anything is due (an expired grant or hold not yet settled)."""
    return expr.when(
        "attribute_not_exists({a_due}) OR {a_due} > {now}", a_due="due", now=int(now.timestamp())
    )


def lower_due(expr: Expr, moment: int, lower: bool) -> Expr:
    """Keep ``due`` at or before ``moment`` (no min() in DynamoDB expressions: one of two complementary forms).

    ``lower``: set it, on condition it was later or absent; otherwise: on condition it already is."""
    if lower:
        expr.when("attribute_not_exists({a_due}) OR {a_due} > {at}", a_due="due", at=moment)
        return expr.set("due", moment).set("due_pk", schema.DUE_PK)
    return expr.when("{a_due} <= {at}", a_due="due", at=moment)


class DueHints:
    """The ``due`` this process last saw per account: picks which form of ``lower_due`` to try first, so
    a hold or grant is usually one request. A wrong guess costs one cancelled transaction, never a wrong write."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._due: dict[str, int] = {}

    def lower_first(self, account_id: str, moment: int) -> bool:
        known = self._due.get(account_id)
        return known is None or known > moment

    def saw(self, account_id: str, due: int | None) -> None:
        if len(self._due) >= self.LIMIT:
            self._due.clear()
        if due is None:
            self._due.pop(account_id, None)
        else:
            self._due[account_id] = due

    def refused(self, account_id: str, old_account: dict[str, Any] | None, moment: int) -> bool:
        """The form tried was refused: remember the account's due and say whether to lower it next."""
        due = (old_account or {}).get("due")
        self.saw(account_id, due)
        return due is None or due > moment


due_hints = DueHints()


def count_consumption(expr: Expr, amount: int, now: datetime) -> Expr:
    """Consumption: allocate later to grants (``unsettled``); count it for lifetime and the 7-day burn rate."""
    expr.add("unsettled", amount).add("lifetime_spent", amount)
    expr.add(daily_spend_attr(now.strftime("%Y%m%d")), amount)
    return expr.remove(stale_daily_spend_attr(now))


@dataclass
class Cancelled(Exception):
    """The transaction was cancelled; ``reasons`` follow the actions: (code or None, old item or None)."""

    reasons: list[tuple[str | None, dict[str, Any] | None]]

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index][0] == "ConditionalCheckFailed"

    def old(self, index: int) -> dict[str, Any] | None:
        return self.reasons[index][1]


def transact(actions: list[dict[str, Any]]) -> None:
    """TransactWriteItems; retries only transaction conflicts. A failed condition raises Cancelled."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            table.client().transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raw = error.response.get("CancellationReasons") or []
            reasons = [
                (
                    r.get("Code") if r.get("Code") != "None" else None,
                    table.from_item(dict(r["Item"]) if "Item" in r else None),
                )
                for r in raw
            ]
            if any(code == "ConditionalCheckFailed" for code, _ in reasons):
                raise Cancelled(reasons) from None
            if not any(code in ("TransactionConflict", "ThrottlingError") for code, _ in reasons):
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise Busy("the account is too contended right now; retry with the same idempotency key")

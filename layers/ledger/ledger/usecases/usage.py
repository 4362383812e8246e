"""The usage breakdown: consumption per day and operation over a date range, from the journal's daily rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.errors import InvalidRequest
from ledger.store import schema, table

MAX_USAGE_DAYS = 366


@dataclass(frozen=True, slots=True)
class UsageDay:
    date: str
    total: int
    by_operation: dict[str, int]


@dataclass(frozen=True, slots=True)
class Usage:
    start: date
    end: date
    total: int
    by_operation: dict[str, int]
    by_day: list[UsageDay]


def usage(account_id: str, start: date, end: date) -> Usage:
    """Consumption per day and operation from the journal's daily rollups: one item per active day."""
    if end < start:
        raise InvalidRequest("to must not be before from")
    if (end - start).days + 1 > MAX_USAGE_DAYS:
        raise InvalidRequest(f"a usage breakdown spans at most {MAX_USAGE_DAYS} days")
    values = {
        ":pk": schema.account_pk(account_id),
        ":a": schema.usage_sk(start.isoformat()),
        ":b": schema.usage_sk(end.isoformat()),
    }
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": table.to_item(values),
    }
    days: list[UsageDay] = []
    for page in table.query_pages(**kwargs):
        for item in page:
            ops = {
                k[len(table.OPERATION_PREFIX) :]: v
                for k, v in item.items()
                if k.startswith(table.OPERATION_PREFIX) and v
            }
            days.append(UsageDay(date=item["sk"][2:], total=item.get("total", 0), by_operation=ops))
    totals: dict[str, int] = {}
    for day in days:
        for op, credits in day.by_operation.items():
            totals[op] = totals.get(op, 0) + credits
    return Usage(start, end, sum(d.total for d in days), totals, days)

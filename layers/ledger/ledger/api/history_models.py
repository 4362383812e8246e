"""Response bodies of the history (transactions) and the usage report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated

from ledger.api.models import EntryOut
from ledger.shapes import Rule

if TYPE_CHECKING:
    from ledger.usecases.history import Page
    from ledger.usecases.usage import Usage


@dataclass(kw_only=True)
class TransactionsPageOut:
    items: list[EntryOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page) -> TransactionsPageOut:
        return cls(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@dataclass(kw_only=True)
class UsageDayOut:
    date: date
    total: int
    by_operation: dict[str, int]


@dataclass(kw_only=True)
class UsageOut:
    from_: Annotated[date, Rule(alias="from")]
    to: date
    total: int
    by_operation: dict[str, int]
    by_day: list[UsageDayOut]

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        days = [
            UsageDayOut(date=date.fromisoformat(d.date), total=d.total, by_operation=d.by_operation)
            for d in usage.by_day
        ]
        return cls(
            from_=usage.start,
            to=usage.end,
            total=usage.total,
            by_operation=usage.by_operation,
            by_day=days,
        )

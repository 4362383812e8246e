"""History: an account's entries newest first, a page at a time; the key of a page's last entry is the next page's cursor."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.changes import Entry
from ledger.domain.errors import InvalidRequest
from ledger.store import entries


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Entry]
    next_cursor: str | None


def history(account_id: str, limit: int = 50, cursor: str | None = None, type: str | None = None) -> Page:
    """Entries newest first; ``cursor`` is the key of the last entry of the previous page."""
    if not 1 <= limit <= 200:
        raise InvalidRequest("limit must be from 1 to 200")
    if type:  # one type: its own index, so a page holds up to limit entries of it
        return Page(*entries.typed_page(account_id, type, limit, cursor))
    return Page(*entries.page(account_id, limit, cursor))

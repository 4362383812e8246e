"""The auto top-up safety net (scheduled): accounts below their threshold with auto top-up on and nothing in
flight get their top-up started, so a lost or failed stream batch never strands an account; top-ups stuck in
flight are looked at again; retries whose cooldown has ended are made.

It reads only the sparse ``top_up`` index (accounts with auto top-up on, ``check_at <= now``: idle ones, those
whose cooldown ended, those whose charge turned stale), then the account figures of the idle ones in batches.
The rules of ``TopUp.may_start`` decide, as for the stream; the claim makes starting twice impossible."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.domain.changes import epoch
from ledger.domain.errors import LedgerError
from ledger.domain.top_up import TopUp
from ledger.runtime.log import Logger
from ledger.store import schema, table
from ledger.store.account_item import parse_account
from ledger.store.schema import account_id_of
from ledger.store.table import DynamoDBError
from ledger.store.top_up_item import forget, to_check
from ledger.usecases.top_up import top_up_if_due

PAGE_SIZE = 100
FIGURES = ("pk", "balance", "held", "seq", "lifetime_spent")

logger = Logger()


@dataclass
class NetReport:
    looked: int = 0  # accounts read from the index
    started: int = 0  # top-ups started or resumed
    failed: int = 0  # accounts whose look failed (the next run looks again)
    complete: bool = True


def _figures(account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The figures the rules need, of up to 100 accounts in one BatchGetItem (retrying what it leaves)."""
    keys = [{"pk": schema.account_pk(a), "sk": schema.ACCOUNT_SK} for a in account_ids]
    items = table.batch_get(keys, attributes=list(FIGURES), consistent=False)
    return {account_id_of(item["pk"]): item for item in items}


def _due(top_up: TopUp, figures: dict[str, Any] | None, now: int) -> bool:
    if top_up.stale(now):
        return True
    if figures is None:
        return False
    account = parse_account(top_up.account_id, figures)  # the projected figures are enough for these
    return top_up.may_start(account.available, account.seq, account.lifetime_spent, now, False)


def safety_net(now: datetime, has_time: Callable[[], bool] = lambda: True) -> NetReport:
    report = NetReport()
    at = epoch(now)
    for page in to_check(now, PAGE_SIZE):
        report.looked += len(page)
        figures = _figures([t.account_id for t in page if not t.stale(at)]) if page else {}
        for top_up in page:
            if not top_up.enabled and top_up.in_flight is None:
                forget(top_up.account_id)  # turned off while a charge was in flight, now settled
                continue
            if not _due(top_up, figures.get(top_up.account_id), at):
                continue
            if not has_time():
                report.complete = False
                return report
            try:
                if top_up_if_due(top_up.account_id, None, now).purchase_id:
                    report.started += 1
            except (LedgerError, DynamoDBError):
                logger.exception("auto top-up could not start", extra={"account_id": top_up.account_id})
                report.failed += 1
    return report

"""A purchase's disputes: what each piece of news about one does to the purchase's record of it. Pure rules.

Stripe tells of a dispute when it opens (``charge.dispute.created``) and when it closes
(``charge.dispute.closed``: won, lost, ...), in any order and as often as it likes. The purchase records each
dispute once, with a status and the credits taken back for it:

- first news of a dispute not won (open, already lost, or of a status we do not know): record it and take back
  the disputed credits;
- first news of a dispute already won: record it won, taking nothing (nothing was ever taken);
- a win of a dispute recorded as not won and not final: give back what was taken (less what refunds made since
  need, ``Purchase.dispute_restore``), and record it won;
- anything else changes nothing: a repeat, news of a dispute already won, a loss after the opening (the
  credits stay taken), a win of one recorded as lost, prevented or refunded (final).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ledger.domain.purchase import FINAL_DISPUTE, RESTORED_DISPUTE

News = Literal["created", "closed"]
Action = Literal["claw_back", "record_won", "restore", "nothing"]

OPENED_STATUS = "needs_response"  # what a new dispute is when its news does not say


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    status: str  # the dispute's status as this news tells it (what the record says after a change)


def is_restored(status: str | None) -> bool:
    """Closed in the account's favour: what was clawed back returns."""
    return status in RESTORED_DISPUTE


def on_news(recorded: str | None, news: News, status: str | None) -> Transition:
    """What news of a dispute does. ``recorded``: the status the purchase records for it, None when the
    dispute is not recorded yet; ``status``: the dispute's status in the news."""
    told = str(status or OPENED_STATUS) if news == "created" else str(status)
    if recorded is None:
        return Transition("record_won" if is_restored(told) else "claw_back", told)
    if is_restored(told) and not is_restored(recorded) and recorded not in FINAL_DISPUTE:
        return Transition("restore", told)
    return Transition("nothing", told)


def kept(record: dict[str, Any]) -> int:
    """The credits a dispute's record says stay taken: what it took, less what its win gave back (a record
    written before wins recorded what they gave back gave back all it took)."""
    took = int(record.get("credits", 0))
    if not is_restored(record.get("status")):
        return took
    return took - int(record.get("restored", took))

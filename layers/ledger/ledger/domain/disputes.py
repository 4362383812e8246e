"""A purchase's disputes: what each piece of news about one does to the purchase's record of it. Pure rules.

Stripe tells of a dispute when it opens (``charge.dispute.created``) and when it closes
(``charge.dispute.closed``: won, lost, ...), in any order and as often as it likes. The purchase records each
dispute once, with a status and the credits taken back for it:

- first news of a dispute not won (open, or already lost): record it and take back the disputed credits;
- first news of a dispute already won: record it won, taking nothing (nothing was ever taken);
- a win of a dispute recorded open: give back what was taken, and record it won;
- anything else changes nothing: a repeat, news of a dispute already won, a loss after the opening (the
  credits stay taken), a win of one first heard of as lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ledger.domain.purchase import OPEN_DISPUTE, RESTORED_DISPUTE

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
    if is_restored(told) and recorded in OPEN_DISPUTE and recorded != "lost":
        return Transition("restore", told)
    return Transition("nothing", told)

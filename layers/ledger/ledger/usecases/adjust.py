"""Adjustments: an operator's correction, written as an entry of its own, never by editing one.

A positive adjustment is a grant of source ``adjustment`` (it never expires and burns like purchased credits);
a negative one takes credits back like a clawback, in burn order, and counts in ``lifetime_clawed_back``. A
negative adjustment respects the account's floor unless ``allow_below_floor``: then, as a clawback, it may
leave a debt that the next credits pay first. The reason is kept as the entry's description, in the history
and the export.
"""

from __future__ import annotations

from datetime import datetime

from ledger.domain.amounts import MAX_AMOUNT
from ledger.domain.changes import utcnow
from ledger.domain.errors import InvalidRequest
from ledger.domain.text import is_text
from ledger.usecases.clawback import clawback
from ledger.usecases.common import WriteResult, check_key
from ledger.usecases.grant import grant

MAX_REASON = 200


def adjust(
    account_id: str,
    amount: int,
    reason: str,
    idempotency_key: str,
    allow_below_floor: bool = False,
    now: datetime | None = None,
) -> WriteResult:
    if type(amount) is not int or amount == 0 or abs(amount) > MAX_AMOUNT:
        raise InvalidRequest(f"amount must be a non-zero integer from -{MAX_AMOUNT} to {MAX_AMOUNT}")
    if not is_text(reason, 1, MAX_REASON) or not reason.strip():
        raise InvalidRequest(f"reason must be 1 to {MAX_REASON} characters of text")
    if type(allow_below_floor) is not bool:
        raise InvalidRequest("allow_below_floor must be true or false")
    key = check_key(idempotency_key)
    now = now or utcnow()
    identity = {"adjustment": amount, "reason": reason, "allow_below_floor": allow_below_floor}
    if amount > 0:
        made = grant(
            account_id,
            amount,
            "adjustment",
            key,
            description=reason,
            now=now,
            entry_type="adjustment",
            identity=identity,
        )
        return made.result
    return clawback(
        account_id,
        -amount,
        "adjustment",
        key,
        reference=key,
        description=reason,
        now=now,
        floor=not allow_below_floor,
        identity=identity,
    )

"""Auto top-up: an account's settings and the state of its charges. Pure rules: when a top-up may start,
and what a failed charge does (retry after a cooldown, or stop and say why).

The rules that keep it from running away:
- at most one top-up in flight per account (``in_flight``);
- one crossing below the threshold starts at most one top-up: a crossing counts only when it is newer
  than the last top-up started (``claimed_seq``);
- after a successful top-up that left the balance below the threshold (usage outran it), the next one waits
  for a new crossing, or for the safety net to see credits consumed since (``claimed_spent``), never loops;
- a failure retries only after a cooldown, at most ``MAX_FAILURES`` in a row; authentication required or a
  hard decline stops it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ledger.domain.errors import InvalidRequest
from ledger.domain.thresholds import is_below

MAX_AMOUNT = 100_000
MAX_FAILURES = 3
STALE_AFTER_SECONDS = 120  # an in-flight charge older than this is looked at again (resumed, never repeated)

ResultStatus = Literal["pending", "processing", "succeeded", "failed"]
DisabledReason = Literal["authentication_required", "hard_decline", "repeated_failures"]

# Declines the issuer means for good: retrying cannot succeed and card networks penalise it
HARD_DECLINES = frozenset(
    {
        "card_not_supported",
        "currency_not_supported",
        "do_not_try_again",
        "expired_card",
        "fraudulent",
        "incorrect_number",
        "invalid_account",
        "invalid_number",
        "lost_card",
        "merchant_blacklist",
        "new_account_information_available",
        "pickup_card",
        "restricted_card",
        "revocation_of_all_authorizations",
        "revocation_of_authorization",
        "security_violation",
        "stolen_card",
        "stop_payment_order",
        "transaction_not_allowed",
    }
)
# Errors about the saved payment method itself (detached, unusable): as final as a hard decline
HARD_CODES = frozenset(
    {"expired_card", "incorrect_number", "invalid_number", "payment_method_unactivated", "resource_missing"}
)


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    brand: str | None = None
    last4: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """How the latest top-up went."""

    status: ResultStatus
    purchase_id: str
    at: str
    code: str | None = None
    message: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True, slots=True)
class TopUp:
    account_id: str
    enabled: bool = False
    threshold: int | None = None
    amount: int | None = None
    payment_method: PaymentMethod | None = None
    disabled_reason: DisabledReason | None = None
    failures: int = 0  # in a row
    retry_at: int | None = None  # epoch seconds: the end of the cooldown after a failure
    in_flight: str | None = None  # the purchase id of the top-up being charged
    claimed_at: int | None = None
    claimed_seq: int | None = None  # the account's seq when the latest top-up started
    claimed_spent: int = 0  # the account's lifetime_spent then
    last_attempt_at: str | None = None
    last_result: Attempt | None = None
    version: int = 0  # every write advances it: a claim is conditioned on the version it decided on

    def may_start(self, available: int, seq: int, spent: int, now: int, crossing: bool) -> bool:
        """Whether a top-up may start now, for an account seen with these figures.

        ``crossing``: the stream saw the write at ``seq`` take available below the threshold; otherwise the
        safety net saw the account below it."""
        if not self.enabled or self.threshold is None or self.in_flight is not None:
            return False
        if not is_below(available, self.threshold) or (self.retry_at is not None and self.retry_at > now):
            return False
        last = self.last_result.status if self.last_result else None
        if self.claimed_seq is None or last == "failed":
            return True  # the first top-up, or a retry after the cooldown
        if seq <= self.claimed_seq:
            return False  # that crossing, or an older one, already started a top-up
        return crossing or (last == "succeeded" and spent > self.claimed_spent)

    def stale(self, now: int) -> bool:
        return self.in_flight is not None and (self.claimed_at or 0) + STALE_AFTER_SECONDS <= now


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a failed charge does: count it, then retry after ``retry_at`` or stop for ``disabled_reason``."""

    failures: int
    retry_at: int | None
    disabled_reason: DisabledReason | None


def after_failure(
    failures: int, code: str | None, decline_code: str | None, now: int, cooldown: int
) -> Verdict:
    """``failures``: the failures in a row before this one."""
    failures += 1
    if code == "authentication_required" or decline_code == "authentication_required":
        return Verdict(failures, None, "authentication_required")
    if decline_code in HARD_DECLINES or code in HARD_CODES:
        return Verdict(failures, None, "hard_decline")
    if failures >= MAX_FAILURES:
        return Verdict(failures, None, "repeated_failures")
    return Verdict(failures, now + cooldown, None)


def check_settings(enabled: bool, threshold: Any, amount: Any) -> None:
    """0 ≤ threshold ≤ amount; 1 ≤ amount ≤ 100,000 credits. Both are required to turn it on."""
    if threshold is None or amount is None:
        if enabled:
            raise InvalidRequest("threshold and amount are required to enable auto top-up")
        return
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise InvalidRequest(f"amount must be a whole number of credits from 1 to {MAX_AMOUNT:,}")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= amount:
        raise InvalidRequest("threshold must be a whole number of credits from 0 to the amount")

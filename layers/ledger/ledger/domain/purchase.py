"""A purchase: credits bought with a Stripe payment. Pure rules: status, and the credits a refund or
dispute takes back (pro rata to the money returned, never more than the purchase gave)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PurchaseStatus = Literal["pending", "succeeded", "failed", "refunded", "disputed"]
PaymentMode = Literal["payment_intent", "checkout"]
AUTO_TOP_UP = "auto_top_up"  # the mode of a purchase that auto top-up charged off-session
# A dispute takes its credits back unless (or until) it is closed in the account's favour: open, lost and any
# status Stripe may add. Lost (or prevented, or refunded instead) is final: the credits stay taken.
RESTORED_DISPUTE = ("won", "warning_closed")  # closed in the account's favour: what was clawed back returns
FINAL_DISPUTE = ("lost", "prevented", "charge_refunded")


@dataclass(frozen=True, slots=True)
class Failure:
    code: str | None
    message: str | None
    decline_code: str | None = None


@dataclass(frozen=True, slots=True)
class Purchase:
    id: str
    account_id: str
    credits: int
    amount: int  # minor units of ``currency``
    currency: str
    mode: str
    created_at: str
    paid: bool = False
    paid_at: str | None = None
    payment_intent_id: str | None = None
    checkout_session_id: str | None = None
    payment_method_id: str | None = None  # the saved card an auto top-up charges
    grant_id: str | None = None
    failure: Failure | None = None
    refunded_amount: int = 0  # cumulative, as Stripe reports it on the charge
    clawed_back: int = 0  # credits taken back by refunds and disputes, net of disputes won
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)  # dispute id -> {status, credits}

    @property
    def status(self) -> PurchaseStatus:
        if not self.paid:
            return "failed" if self.failure else "pending"
        if self.refunded_amount >= self.amount:
            return "refunded"
        if any(d.get("status") not in RESTORED_DISPUTE for d in self.disputes.values()):
            return "disputed"
        return "succeeded"

    def credits_for(self, money: int) -> int:
        """The credits that ``money`` (minor units) of this purchase bought: rounded down, so partial
        refunds never take back more than was paid for, and the full amount is exactly all credits."""
        return self.credits * min(max(money, 0), self.amount) // self.amount

    def refund_clawback(self, amount_refunded: int) -> int:
        """Credits to take back when the charge's cumulative refunded amount reaches ``amount_refunded``."""
        due = self.credits_for(amount_refunded) - self.credits_for(self.refunded_amount)
        return max(min(due, self.credits - self.clawed_back), 0)

    def dispute_clawback(self, disputed_amount: int) -> int:
        return max(min(self.credits_for(disputed_amount), self.credits - self.clawed_back), 0)

    def dispute_restore(self, dispute_id: str) -> int:
        """Credits to give back when dispute ``dispute_id`` closes in the account's favour: what it took, less
        what the refunds and the other disputes still against the account need taken. (A refund made during an
        inquiry finds its credits already taken by the inquiry and takes nothing itself: when the inquiry
        closes, those credits stay taken for the refund.)"""
        took = int(self.disputes[dispute_id].get("credits", 0))
        others = sum(
            int(d.get("credits", 0))
            for other, d in self.disputes.items()
            if other != dispute_id and d.get("status") not in RESTORED_DISPUTE
        )
        kept = min(self.credits, self.credits_for(self.refunded_amount) + others)
        return max(min(took, self.clawed_back - kept), 0)

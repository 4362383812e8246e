"""The detail of every notification published on the bus, one pydantic model per notification.

Each detail carries a deterministic ``id`` computed from what caused it, so a redelivered stream batch
publishes the same ids and consumers can drop duplicates. ``scripts/event_schemas.py`` exports these models
as JSON Schema into ``docs/events/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from ledger.domain.changes import digest

ID_DESCRIPTION = "Deterministic: the same cause always gives the same id. Drop duplicates by it."
Credits = Field(ge=0, description="Credits (an integer).")


class Notification(BaseModel):
    """What every notification's detail has: its id and the account it is about."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", defer_build=True)

    name: ClassVar[str]  # the EventBridge DetailType

    account_id: str = Field(description="The account the notification is about.")

    def identity(self) -> tuple[str, ...]:
        """What makes this notification unique for its account and kind."""
        raise NotImplementedError

    @computed_field(description=ID_DESCRIPTION)  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        return "ntf_" + digest(self.account_id, self.name, *self.identity())


class BalanceFigures(Notification):
    """A notification that follows from one account write, numbered by the account's sequence."""

    seq: int = Field(description="The account's sequence number after the write that caused it.")
    balance: int = Field(description="Balance after the write.")
    held: int = Field(description="Credits reserved by open holds after the write.")
    available: int = Field(description="balance - held after the write.")
    hard_limit: int = Field(description="The floor available may go down to (0 unless set).")

    def identity(self) -> tuple[str, ...]:
        return (str(self.seq),)


class CreditBalanceLow(BalanceFigures):
    """Available fell below the low-balance threshold (landing exactly on it is not below). Once per crossing:
    it fires again only after available has been back at or above the threshold."""

    name: ClassVar[str] = "credit_balance_low"

    threshold: int = Field(description="The low-balance threshold in force.")


class CreditBalanceDepleted(BalanceFigures):
    """Available reached the floor (hard_limit, 0 unless set): nothing more can be spent."""

    name: ClassVar[str] = "credit_balance_depleted"


class CreditsExpired(Notification):
    """A grant expired and its unused remainder left the balance (one notification per grant)."""

    name: ClassVar[str] = "credits_expired"

    seq: int = Field(description="Sequence number of the account's expiry entry.")
    grant_id: str
    credits: int = Credits
    expires_at: datetime = Field(description="When the grant expired.")
    balance: int = Field(description="Balance right after the expiry entry.")

    def identity(self) -> tuple[str, ...]:
        return (str(self.seq),)


class CreditsExpiring(Notification):
    """A grant with credits left expires in ``days_before`` days (once per grant and reminder day)."""

    name: ClassVar[str] = "credits_expiring"

    grant_id: str
    credits: int = Field(gt=0, description="The grant's remainder when the reminder was sent.")
    expires_at: datetime
    days_before: int = Field(gt=0, description="The reminder day: how many days before the expiry it is.")
    source: str = Field(description="Where the credits came from (purchase, promotional, ...).")

    def identity(self) -> tuple[str, ...]:
        return (self.grant_id, str(self.days_before))


class Purchase(Notification):
    """A purchase of credits, by the customer or by auto top-up."""

    purchase_id: str
    credits: int = Credits
    amount: int = Field(ge=0, description="Price in the currency's minor unit (cents for usd).")
    currency: str = Field(description="ISO 4217 code, lower case.", examples=["usd"])
    payment_intent: str | None = Field(
        default=None, description="The Stripe PaymentIntent id, when one exists."
    )

    def identity(self) -> tuple[str, ...]:
        return (self.purchase_id,)


class CreditsPurchased(Purchase):
    """A payment succeeded and its credits were granted."""

    name: ClassVar[str] = "credits_purchased"


class CreditAutoRechargeTriggered(Purchase):
    """Auto top-up started a purchase because available fell to its threshold."""

    name: ClassVar[str] = "credit_auto_recharge_triggered"


class CreditPurchaseFailed(Purchase):
    """A payment failed: no credits were granted."""

    name: ClassVar[str] = "credit_purchase_failed"

    reason: str = Field(description="Why, in words (Stripe's message or ours).")
    decline_code: str | None = Field(
        default=None, description="Stripe's decline_code, when the card was declined."
    )

    def identity(self) -> tuple[str, ...]:
        return (self.purchase_id, self.payment_intent or "", self.decline_code or "", self.reason)


class LedgerDriftDetected(Notification):
    """Reconciliation found the ledger disagreeing with itself (see the README, "Reconciliation"): once per
    discrepancy, however many runs find it."""

    name: ClassVar[str] = "ledger_drift_detected"

    kind: str = Field(
        description="What disagrees: entry_missing, entry_repeated, running_balance, history_unrecorded, "
        "history_behind, "
        "history_ahead, balance_vs_history, lifetime_figures, held_vs_holds, balance_vs_grants, negative_grant, "
        "expiry_unsettled, hold_unreleased; against Stripe: payment_not_granted, grant_count, "
        "refund_not_clawed_back, refund_pro_rata, grant_without_payment, dispute_not_recorded, "
        "dispute_unknown_to_stripe, dispute_status, dispute_clawback."
    )
    message: str = Field(description="The rule that failed, in words.")
    expected: str = Field(description="What the rule expects (JSON).")
    found: str = Field(description="What the ledger holds (JSON).")
    items: list[str] = Field(description="The sort keys of the account's items involved (at most 20).")

    def identity(self) -> tuple[str, ...]:
        return (self.kind, self.expected, self.found, *self.items)


NOTIFICATIONS: dict[str, type[Notification]] = {
    model.name: model
    for model in (
        CreditBalanceLow,
        CreditBalanceDepleted,
        CreditsExpired,
        CreditsExpiring,
        CreditsPurchased,
        CreditAutoRechargeTriggered,
        CreditPurchaseFailed,
        LedgerDriftDetected,
    )
}

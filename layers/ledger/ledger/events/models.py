"""The detail of every notification published on the bus, one dataclass per notification.

Each detail carries a deterministic ``id`` computed from what caused it, so a redelivered stream batch
publishes the same ids and consumers can drop duplicates. A detail checks its fields when it is made
(``ledger.shapes.checked``), strictly: an int is an int, ``"1000"`` and ``10.0`` are refused.
``scripts/event_schemas.py`` exports these classes as JSON Schema into ``docs/events/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from ledger.domain.changes import digest
from ledger.shapes import Closed, Rule, checked, jsonable

ID_DESCRIPTION = "Deterministic: the same cause always gives the same id. Drop duplicates by it."
Credits = Annotated[int, Rule(ge=0, description="Credits (an integer).")]


@checked
class Notification(Closed):
    """What every notification's detail has: its id and the account it is about."""

    strict: ClassVar[bool] = True
    computed: ClassVar[dict[str, str]] = {"id": ID_DESCRIPTION}  # written after the fields
    name: ClassVar[str]  # the EventBridge DetailType

    account_id: Annotated[str, Rule(description="The account the notification is about.")]

    def identity(self) -> tuple[str, ...]:
        """What makes this notification unique for its account and kind."""
        raise NotImplementedError

    @property
    def id(self) -> str:
        return "ntf_" + digest(self.account_id, self.name, *self.identity())

    def detail(self) -> dict[str, Any]:
        """The event's detail as JSON data: the fields, then the id."""
        return {**jsonable(self), "id": self.id}


@checked
class BalanceFigures(Notification):
    """A notification that follows from one account write, numbered by the account's sequence."""

    seq: Annotated[int, Rule(description="The account's sequence number after the write that caused it.")]
    balance: Annotated[int, Rule(description="Balance after the write.")]
    held: Annotated[int, Rule(description="Credits reserved by open holds after the write.")]
    available: Annotated[int, Rule(description="balance - held after the write.")]
    hard_limit: Annotated[int, Rule(description="The floor available may go down to (0 unless set).")]

    def identity(self) -> tuple[str, ...]:
        return (str(self.seq),)


@checked
class CreditBalanceLow(BalanceFigures):
    """Available fell below the low-balance threshold (landing exactly on it is not below). Once per crossing:
    it fires again only after available has been back at or above the threshold."""

    name: ClassVar[str] = "credit_balance_low"

    threshold: Annotated[int, Rule(description="The low-balance threshold in force.")]


@checked
class CreditBalanceDepleted(BalanceFigures):
    """Available reached the floor (hard_limit, 0 unless set): nothing more can be spent."""

    name: ClassVar[str] = "credit_balance_depleted"


@checked
class CreditsExpired(Notification):
    """A grant expired and its unused remainder left the balance (one notification per grant)."""

    name: ClassVar[str] = "credits_expired"

    seq: Annotated[int, Rule(description="Sequence number of the account's expiry entry.")]
    grant_id: str
    credits: Credits
    expires_at: Annotated[datetime, Rule(description="When the grant expired.")]
    balance: Annotated[int, Rule(description="Balance right after the expiry entry.")]

    def identity(self) -> tuple[str, ...]:
        return (str(self.seq),)


@checked
class CreditsExpiring(Notification):
    """A grant with credits left expires in ``days_before`` days (once per grant and reminder day)."""

    name: ClassVar[str] = "credits_expiring"

    grant_id: str
    credits: Annotated[int, Rule(gt=0, description="The grant's remainder when the reminder was sent.")]
    expires_at: datetime
    days_before: Annotated[
        int, Rule(gt=0, description="The reminder day: how many days before the expiry it is.")
    ]
    source: Annotated[str, Rule(description="Where the credits came from (purchase, promotional, ...).")]

    def identity(self) -> tuple[str, ...]:
        return (self.grant_id, str(self.days_before))


@checked
class Purchase(Notification):
    """A purchase of credits, by the customer or by auto top-up."""

    purchase_id: str
    credits: Credits
    amount: Annotated[int, Rule(ge=0, description="Price in the currency's minor unit (cents for usd).")]
    currency: Annotated[str, Rule(description="ISO 4217 code, lower case.", examples=["usd"])]
    payment_intent: Annotated[
        str | None, Rule(description="The Stripe PaymentIntent id, when one exists.")
    ] = None

    def identity(self) -> tuple[str, ...]:
        return (self.purchase_id,)


@checked
class CreditsPurchased(Purchase):
    """A payment succeeded and its credits were granted."""

    name: ClassVar[str] = "credits_purchased"


@checked
class CreditAutoRechargeTriggered(Purchase):
    """Auto top-up started a purchase because available fell to its threshold."""

    name: ClassVar[str] = "credit_auto_recharge_triggered"


@checked
class CreditPurchaseFailed(Purchase):
    """A payment failed: no credits were granted."""

    name: ClassVar[str] = "credit_purchase_failed"

    reason: Annotated[str, Rule(description="Why, in words (Stripe's message or ours).")]
    decline_code: Annotated[
        str | None, Rule(description="Stripe's decline_code, when the card was declined.")
    ] = None

    def identity(self) -> tuple[str, ...]:
        return (self.purchase_id, self.payment_intent or "", self.decline_code or "", self.reason)


@checked
class LedgerDriftDetected(Notification):
    """Reconciliation found the ledger disagreeing with itself (see the README, "Reconciliation"): once per
    discrepancy, however many runs find it."""

    name: ClassVar[str] = "ledger_drift_detected"

    kind: Annotated[
        str,
        Rule(
            description="What disagrees: entry_missing, entry_repeated, running_balance, history_unrecorded, "
            "history_behind, "
            "history_ahead, balance_vs_history, lifetime_figures, held_vs_holds, balance_vs_grants, negative_grant, "
            "expiry_unsettled, hold_unreleased; against Stripe: payment_not_granted, grant_count, "
            "refund_not_clawed_back, refund_pro_rata, grant_without_payment, dispute_not_recorded, "
            "dispute_unknown_to_stripe, dispute_status, dispute_clawback."
        ),
    ]
    message: Annotated[str, Rule(description="The rule that failed, in words.")]
    expected: Annotated[str, Rule(description="What the rule expects (JSON).")]
    found: Annotated[str, Rule(description="What the ledger holds (JSON).")]
    items: Annotated[
        list[str], Rule(description="The sort keys of the account's items involved (at most 20).")
    ]

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

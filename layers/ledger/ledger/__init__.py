"""Prepaid Credits ledger: the same operations the API serves, callable from any Lambda with the layer.

import ledger
ledger.grant("acme", 1000, source="promotional", idempotency_key="welcome-acme")
ledger.debit("acme", 25, operation="render", idempotency_key="job-42")
ledger.debit_many([{"account_id": "acme", "amount": 3, "operation": "tokens", "idempotency_key": "req-7"}])
"""

from ledger.domain.errors import (
    Busy,
    CaptureExceedsHold,
    Forbidden,
    HoldExpired,
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidRequest,
    LedgerError,
    NotFound,
)
from ledger.usecases.adjust import adjust
from ledger.usecases.debit import debit
from ledger.usecases.debit_many import UsageResult, debit_many
from ledger.usecases.expire import settle_due
from ledger.usecases.export import export_entries, export_page
from ledger.usecases.grant import grant
from ledger.usecases.hold import capture_hold, get_hold, place_hold, release_hold
from ledger.usecases.hot import set_spend_shards
from ledger.usecases.limits import get_limits, set_limits
from ledger.usecases.reads import balance_card, history, live_grants, usage
from ledger.usecases.reconcile import reconcile_account, reconcile_changed
from ledger.usecases.timeline import balance_at

__all__ = [
    "Busy",
    "CaptureExceedsHold",
    "Forbidden",
    "HoldExpired",
    "HoldNotOpen",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidRequest",
    "LedgerError",
    "NotFound",
    "UsageResult",
    "adjust",
    "balance_at",
    "balance_card",
    "capture_hold",
    "debit",
    "debit_many",
    "export_entries",
    "export_page",
    "get_hold",
    "get_limits",
    "grant",
    "history",
    "live_grants",
    "place_hold",
    "reconcile_account",
    "reconcile_changed",
    "release_hold",
    "set_limits",
    "set_spend_shards",
    "settle_due",
    "usage",
]

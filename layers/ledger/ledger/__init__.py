"""Prepaid Credits ledger: the same operations the API serves, callable from any Lambda with the layer.

import ledger
ledger.grant("acme", 1000, source="promotional", idempotency_key="welcome-acme")
ledger.debit("acme", 25, operation="render", idempotency_key="job-42")
ledger.debit_many([{"account_id": "acme", "amount": 3, "operation": "tokens", "idempotency_key": "req-7"}])

Each operation is imported when first used (``ledger.debit`` imports the debit use case only), so a function
pays at start-up for the operations it calls, not for all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from ledger.usecases.balance import balance_card, live_grants
    from ledger.usecases.debit import debit
    from ledger.usecases.debit_many import UsageResult, debit_many
    from ledger.usecases.expire import settle_due
    from ledger.usecases.export import export_entries, export_page
    from ledger.usecases.grant import grant
    from ledger.usecases.history import history
    from ledger.usecases.hold import capture_hold, get_hold, place_hold, release_hold
    from ledger.usecases.hot import set_spend_shards
    from ledger.usecases.limits import get_limits, set_limits
    from ledger.usecases.reconcile import reconcile_account, reconcile_changed
    from ledger.usecases.timeline import balance_at
    from ledger.usecases.usage import usage

_WHERE = {
    "Busy": "ledger.domain.errors",
    "CaptureExceedsHold": "ledger.domain.errors",
    "Forbidden": "ledger.domain.errors",
    "HoldExpired": "ledger.domain.errors",
    "HoldNotOpen": "ledger.domain.errors",
    "IdempotencyConflict": "ledger.domain.errors",
    "InsufficientCredits": "ledger.domain.errors",
    "InvalidRequest": "ledger.domain.errors",
    "LedgerError": "ledger.domain.errors",
    "NotFound": "ledger.domain.errors",
    "adjust": "ledger.usecases.adjust",
    "debit": "ledger.usecases.debit",
    "UsageResult": "ledger.usecases.debit_many",
    "debit_many": "ledger.usecases.debit_many",
    "settle_due": "ledger.usecases.expire",
    "export_entries": "ledger.usecases.export",
    "export_page": "ledger.usecases.export",
    "grant": "ledger.usecases.grant",
    "capture_hold": "ledger.usecases.hold",
    "get_hold": "ledger.usecases.hold",
    "place_hold": "ledger.usecases.hold",
    "release_hold": "ledger.usecases.hold",
    "set_spend_shards": "ledger.usecases.hot",
    "get_limits": "ledger.usecases.limits",
    "set_limits": "ledger.usecases.limits",
    "balance_card": "ledger.usecases.balance",
    "history": "ledger.usecases.history",
    "live_grants": "ledger.usecases.balance",
    "usage": "ledger.usecases.usage",
    "reconcile_account": "ledger.usecases.reconcile",
    "reconcile_changed": "ledger.usecases.reconcile",
    "balance_at": "ledger.usecases.timeline",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # imported once
    return value


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

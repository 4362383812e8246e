"""The journal's history stays exact across refused and replayed writes between deliveries."""

from __future__ import annotations

import pytest

import ledger
from devkit.stream import StreamPump


def test_refused_and_replayed_writes_between_pumps_leave_no_phantom_entries(journal: StreamPump) -> None:
    ledger.grant("acme", 100, "promotional", "g")
    ledger.debit("acme", 10, "render", "k")
    journal.pump()
    assert ledger.debit("acme", 10, "render", "k").replayed  # cancelled transaction
    with pytest.raises(ledger.InsufficientCredits):
        ledger.debit("acme", 1000, "render", "too-much")  # cancelled transaction
    ledger.debit("acme", 5, "render", "k2")
    journal.pump()
    entries = ledger.history("acme").items
    assert [(e.seq, e.amount, e.balance_after) for e in entries] == [(3, -5, 85), (2, -10, 90), (1, 100, 100)]
    assert ledger.balance_card("acme").account.balance == 85

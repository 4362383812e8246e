"""The ledger's state machine (test_ledger_properties.py) on a hot account: the same rules and the same model,
with debits and batches going through spend shards chosen at random, bursts left unposted when a grant
arrives or the account is settled, and the account made hot and not hot again. A module of its own, so that
it runs beside the other machines."""

from __future__ import annotations

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule, run_state_machine_as_test

import ledger
from ledger.store import entries as entry_store
from ledger.usecases import debit as debit_module
from ledger.usecases import debit_many as debit_many_module
from tests.integration.test_ledger_properties import (
    ACCOUNT,
    EXAMPLES,
    LedgerMachine,
    amounts,
    durations,
    tally,
)


class HotLedgerMachine(LedgerMachine):
    """The same rules on a hot account (store/shards.py): debits and batches go to shards chosen at random,
    which borrow from the account item and give back; the journal posts them. Besides, bursts of debits that
    are not posted yet when a grant arrives or the account is settled, and the account made hot and not hot
    again. The model is the same: the guarantees are."""

    @initialize(
        amount=st.integers(1, 500),
        overdraft=st.one_of(st.none(), st.sampled_from([-50, -300])),
        tight=st.booleans(),
        shards=st.sampled_from([2, 3, 8]),
        seed=st.integers(0, 2**32),
    )
    def start_hot(self, amount: int, overdraft: int | None, tight: bool, shards: int, seed: int) -> None:
        LedgerMachine.start(self, amount, overdraft, tight)
        rng = random.Random(seed)
        for module in (debit_module, debit_many_module):
            self.limits.setattr(module, "pick_shard", lambda count: rng.randrange(count))
        self.limits.setattr(entry_store, "BLOCK", 4)  # its history crosses blocks within a few steps
        ledger.set_spend_shards(ACCOUNT, shards, now=self.now())
        self.hot = True

    start = None  # type: ignore[assignment]  # replaced by start_hot (the account must exist to be hot)

    @rule(shards=st.sampled_from([0, 2, 5]))
    def make_hot(self, shards: int) -> None:
        tally("hot" if shards else "not hot")
        ledger.set_spend_shards(ACCOUNT, shards, now=self.now())
        self.hot = bool(shards)

    @precondition(lambda self: self.hot)
    @rule(
        burst=st.lists(st.integers(1, 60), min_size=1, max_size=5),
        then=st.sampled_from(["grant", "expiring grant", "settle"]),
        amount=amounts,
        expires_in=durations,
    )
    def burst(self, burst: list[int], then: str, amount: int, expires_in: int) -> None:
        """Debits the journal has not posted when a grant arrives or the account settles: what they consumed
        is the grants' that were there (and live) when they were made."""
        m = self.model
        m.guarded_write()
        for spend in burst:
            if m.available - spend < m.hard_limit:
                with pytest.raises(ledger.InsufficientCredits):  # refused, but it settled what was due
                    ledger.debit(ACCOUNT, spend, "render", self.key("burst"), now=self.now())
                continue
            ledger.debit(ACCOUNT, spend, "render", self.key("burst"), now=self.now())
            m.consume(spend)
            m.seq += 1
            m.wrote()
        tally(f"a burst, then {then}")
        if then == "settle":
            m.advance(expires_in)
            self.sweep()
            return
        self.loose_crossings = True  # the grant reaches the account item before the burst is posted
        self.add_grant(amount, "promotional", None, expires_in if then == "expiring grant" else None)


@pytest.mark.slow
@pytest.mark.deep
def test_a_hot_account_against_the_model() -> None:
    run_state_machine_as_test(
        HotLedgerMachine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=30, deadline=None, print_blob=True),
    )

"""Correctness under load: many threads debiting one account at once through the library, against a
single-threaded moto server (each request atomic, as in DynamoDB). Counts what was accepted and refused,
the transactions the ledger re-sent, and checks the final state for overdrafts."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ledger
from bench.capture import Capture
from bench.fill import served_table
from ledger.store import table as ledger_table

ACCOUNT = "hot"
SEED = 20261121
MAX_AMOUNT = 20


@dataclass
class Contention:
    threads: int
    debits: int
    granted: int
    accepted: int
    refused: int
    credits_spent: int
    transactions: int
    cancelled: int
    retried: int  # cancelled transactions the ledger re-sent (not answered as a refusal)
    conflicts: int  # cancellations for TransactionConflict (DynamoDB's; a serial server never reports one)
    min_available: int
    final_balance: int
    overdrafts: int


def _worker(index: int, per_thread: int, start: threading.Barrier) -> tuple[list[int], int, int]:
    rng, accepted, refused, lowest = random.Random(SEED + index), [], 0, 10**18
    start.wait()
    for n in range(per_thread):
        amount = rng.randint(1, MAX_AMOUNT)
        try:
            result = ledger.debit(ACCOUNT, amount, "render", f"t{index}-{n}")
        except ledger.InsufficientCredits:
            refused += 1
            continue
        accepted.append(amount)
        lowest = min(lowest, result.available)
    return accepted, refused, lowest


def measure(threads: int, per_thread: int) -> Contention:
    granted = threads * per_thread * MAX_AMOUNT // 4  # about half the requested credits
    with served_table():
        ledger.grant(ACCOUNT, granted, "promotional", "welcome")
        capture = Capture(ledger_table.client())
        start = threading.Barrier(threads)
        with capture.active(), ThreadPoolExecutor(threads) as pool:
            results = [
                f.result() for f in [pool.submit(_worker, i, per_thread, start) for i in range(threads)]
            ]
        account = ledger.balance_card(ACCOUNT).account
    calls = [c for c in capture.take() if c.operation == "TransactWriteItems"]
    accepted = [a for amounts, _, _ in results for a in amounts]
    refused = sum(r for _, r, _ in results)
    cancelled = sum(1 for c in calls if c.error == "TransactionCanceledException")
    lowest = min(low for _, _, low in results)
    spent = sum(accepted)
    overdrafts = sum(1 for _, _, low in results if low < 0) + (account.balance < 0) + (spent > granted)
    if account.balance != granted - spent or account.lifetime_spent != spent:
        overdrafts += 1  # the account does not add up: count it against the ledger
    return Contention(
        threads=threads,
        debits=threads * per_thread,
        granted=granted,
        accepted=len(accepted),
        refused=refused,
        credits_spent=spent,
        transactions=len(calls),
        cancelled=cancelled,
        retried=cancelled - refused,
        conflicts=sum(1 for c in calls if "TransactionConflict" in c.reasons),
        min_available=lowest,
        final_balance=account.balance,
        overdrafts=overdrafts,
    )

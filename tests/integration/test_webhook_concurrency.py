"""Stripe delivers each event more than once, concurrently and out of order: every acted-on event still
credits or claws back exactly once. Against a single-threaded moto server (each DynamoDB call atomic)."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

import ledger
from devkit.http import parse
from devkit.lambdas import invoke
from devkit.payments import pay, read_purchase, start_purchase
from devkit.stripe_events import charge, dispute, signed_delivery
from ledger.store import table as ledger_table

COPIES = 10
SEED = 20261121


def deliver_all(deliveries: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """Every delivery COPIES times (each copy its own event, as Stripe's retries are), shuffled, at once."""
    now = int(time.time())
    events = [signed_delivery(kind, obj, created=now + i) for kind, obj in deliveries for i in range(COPIES)]
    random.Random(SEED).shuffle(events)
    ledger_table.client()  # one shared client, made before the threads start
    with ThreadPoolExecutor(len(events)) as pool:
        return [parse(response)[0] for response in pool.map(lambda e: invoke("stripe_webhook", e), events)]


@pytest.mark.slow
def test_concurrent_duplicated_out_of_order_deliveries_act_once(
    server_table: str, stripe_env: stripe.StripeClient
) -> None:
    made = start_purchase("acme", package_id="credits-5000")  # 5,000 credits for 4,500
    intent = pay(stripe_env, made["payment_intent_id"])

    assert set(deliver_all([("payment_intent.succeeded", intent)])) == {200}
    assert ledger.balance_card("acme").account.balance == 5000

    # two partial refunds (cumulative 900, then 1,800): 2,000 credits in all, whichever lands first
    assert set(
        deliver_all([("charge.refunded", charge(intent, 900)), ("charge.refunded", charge(intent, 1800))])
    ) == {200}
    assert ledger.balance_card("acme").account.balance == 3000

    # a dispute of the rest opened and lost, and one opened and won, each reported in any order
    lost, won = dispute(intent, amount=1800), dispute(intent, amount=900)
    deliveries = [
        ("charge.dispute.created", lost),
        ("charge.dispute.closed", {**lost, "status": "lost"}),
        ("charge.dispute.created", won),
        ("charge.dispute.closed", {**won, "status": "won"}),
    ]
    assert set(deliver_all(deliveries)) == {200}
    account = ledger.balance_card("acme").account
    assert account.balance == 1000  # 5,000 - 2,000 refunded - 2,000 lost; the won dispute costs nothing
    bought = read_purchase("acme", made["purchase_id"])
    assert (bought["status"], bought["credits_clawed_back"], bought["refunded_amount"]) == (
        "disputed",
        4000,
        1800,
    )
    assert account.lifetime_added in (5000, 6000)  # the won dispute was restored if it had been taken

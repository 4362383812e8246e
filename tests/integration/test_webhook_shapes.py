"""A signed Stripe event we cannot act on answers 400 and is parked for an operator (each retry Stripe makes is
answered the same, and parked once); a refund or dispute of a PaymentIntent Stripe does not know is not ours:
200, ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from devkit.http import parse
from devkit.lambdas import invoke
from devkit.payments import pay, start_purchase, webhook
from devkit.stripe_events import charge, delivery, dispute, event, sign
from devkit.tables import scan
from ledger.store import parked

pytestmark = pytest.mark.usefixtures("aws", "stripe_env")


def send(payload: str) -> tuple[int, Any]:
    return parse(invoke("stripe_webhook", delivery(payload, sign(payload))))


def intent_event(**changes: Any) -> dict[str, Any]:
    obj = {
        "id": "pi_123",
        "object": "payment_intent",
        "amount": 1000,
        "amount_received": 1000,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"account_id": "acme", "purchase_id": "pur_1", "credits": "1000"},
    }
    whole = event("payment_intent.succeeded", obj)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = whole
        for name in parents:
            target = target[name]
        if value is DROP:
            del target[last]
        else:
            target[last] = value
    return whole


DROP = object()
SHAPES = {
    "list": json.dumps([intent_event()]),
    "string": json.dumps("payment_intent.succeeded"),
    "number": "42",
    "no-data": json.dumps(intent_event(data=DROP)),
    "object-null": json.dumps(intent_event(data__object=None)),
    "object-list": json.dumps(intent_event(data__object=[1])),
    "integer-account-id": json.dumps(intent_event(data__object__metadata__account_id=7)),
    "string-amount": json.dumps(intent_event(data__object__amount_received="1000")),
    "string-created": json.dumps(intent_event(created="1700000000")),
    "no-id": json.dumps(intent_event(id=DROP)),
    "metadata-list": json.dumps(intent_event(data__object__metadata=["acme"])),
    "deep": "[" * 5000 + "]" * 5000,
    "huge-int": json.dumps(intent_event()).replace('"amount": 1000', '"amount": ' + "9" * 5000),
    # an id too long for a key, or not encodable: parked under a digest of the body
    "long-id": json.dumps(intent_event(id="evt_" + "x" * 2000, data=DROP)),
    "surrogate-id": json.dumps(intent_event(id="evt_\ud800", data=DROP)),
}


@pytest.mark.parametrize("payload", SHAPES.values(), ids=SHAPES.keys())
def test_a_signed_event_of_the_wrong_shape_is_400_and_parked(payload: str) -> None:
    before = [i for i in scan() if i["pk"]["S"] != parked.PARKED_PK]
    status, body = send(payload)
    assert (status, body["error"]) == (400, "unreadable_event"), body
    assert [i for i in scan() if i["pk"]["S"] != parked.PARKED_PK] == before
    [kept] = parked.parked("webhook")
    assert kept["error"] and kept["original"]
    assert send(payload)[0] == 400
    assert len(parked.parked("webhook")) == 1  # the same delivery again is parked once


def test_refunds_and_disputes_of_an_unknown_payment_intent_are_ignored(
    stripe_env: stripe.StripeClient,
) -> None:
    made = start_purchase("acme", package_id="credits-1000")
    intent = pay(stripe_env, made["payment_intent_id"])
    stranger = {**intent, "id": "pi_unknownToStripe", "metadata": {}}
    assert webhook("charge.refunded", charge(stranger, amount_refunded=500)) == (
        200,
        {"received": True, "result": "ignored"},
    )
    assert webhook("charge.dispute.created", dispute(stranger)) == (
        200,
        {"received": True, "result": "ignored"},
    )
    assert webhook("charge.dispute.closed", dispute(stranger, status="lost")) == (
        200,
        {"received": True, "result": "ignored"},
    )
    assert parked.parked() == []

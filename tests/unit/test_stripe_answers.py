"""How Stripe's answers to an off-session charge read in the ledger's terms, and what auto top-up then does:
a soft decline cools down, authentication required or a hard decline stops it at once."""

from typing import Any

import pytest
import stripe

from ledger.domain.errors import PaymentProviderError
from ledger.domain.purchase import Failure
from ledger.domain.top_up import after_failure
from ledger.payments import gateway

CHARGE = {
    "amount": 1000,
    "currency": "usd",
    "customer": "cus_1",
    "payment_method": "pm_1",
    "description": "Auto top-up: 1,000 credits",
    "metadata": {"purchase_id": "atu_1"},
    "idempotency_key": "atu_1",
}


def _stripe_answering(monkeypatch: pytest.MonkeyPatch, answer: Any) -> None:
    def call(method: str, path: str, params: dict[str, Any], idempotency_key: str) -> Any:
        assert (method, path, idempotency_key) == ("post", "/v1/payment_intents", CHARGE["idempotency_key"])
        assert params["off_session"] is True and params["confirm"] is True
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(gateway, "call", call)


def _stops(failure: Failure) -> str | None:
    return after_failure(0, failure.code, failure.decline_code, now=0, cooldown=600).disabled_reason


def test_a_succeeded_charge_is_answered_with_its_payment_intent(monkeypatch: pytest.MonkeyPatch) -> None:
    intent = {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 1000}
    _stripe_answering(monkeypatch, intent)
    charge = gateway.charge_off_session(**CHARGE)
    assert charge == gateway.Answered(intent)
    assert gateway.outcome_of(intent) == gateway.Outcome("succeeded")


def test_a_hard_decline_names_its_payment_intent_and_stops_auto_top_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {
        "error": {
            "code": "card_declined",
            "decline_code": "stolen_card",
            "message": "Your card was declined.",
            "payment_intent": {"id": "pi_2", "status": "requires_payment_method"},
        }
    }
    _stripe_answering(
        monkeypatch, stripe.CardError("Your card was declined.", None, "card_declined", json_body=body)
    )
    charge = gateway.charge_off_session(**CHARGE)
    assert isinstance(charge, gateway.Declined)
    assert charge.failure == Failure("card_declined", "Your card was declined.", "stolen_card")
    assert charge.intent["id"] == "pi_2"
    assert _stops(charge.failure) == "hard_decline"


def test_a_soft_decline_only_cools_down(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {
        "error": {"code": "card_declined", "decline_code": "insufficient_funds", "payment_intent": "pi_3"}
    }
    _stripe_answering(monkeypatch, stripe.CardError("Declined.", None, "card_declined", json_body=body))
    charge = gateway.charge_off_session(**CHARGE)
    assert isinstance(charge, gateway.Declined)
    assert charge.intent == {"id": "pi_3"}
    assert (charge.failure.message, charge.failure.decline_code) == ("Declined.", "insufficient_funds")
    assert _stops(charge.failure) is None


def test_a_detached_card_is_a_decline_that_stops_auto_top_up(monkeypatch: pytest.MonkeyPatch) -> None:
    _stripe_answering(
        monkeypatch, stripe.InvalidRequestError("No such PaymentMethod", "payment_method", "resource_missing")
    )
    charge = gateway.charge_off_session(**CHARGE)
    assert isinstance(charge, gateway.Declined)
    assert charge.failure.code == "resource_missing" and charge.intent == {}
    assert _stops(charge.failure) == "hard_decline"


def test_no_answer_from_stripe_is_a_provider_error_naming_the_top_up(monkeypatch: pytest.MonkeyPatch) -> None:
    _stripe_answering(monkeypatch, stripe.APIConnectionError("unreachable"))
    with pytest.raises(PaymentProviderError) as raised:
        gateway.charge_off_session(**CHARGE)
    assert raised.value.details == {"purchase_id": "atu_1"}


def test_a_charge_waiting_for_the_customer_fails_as_authentication_required_and_stops() -> None:
    outcome = gateway.outcome_of({"id": "pi_4", "status": "requires_action"})
    assert outcome.status == "failed" and outcome.awaiting_customer
    assert outcome.failure is not None and outcome.failure.code == "authentication_required"
    assert _stops(outcome.failure) == "authentication_required"


def test_what_a_payment_intent_came_to() -> None:
    assert gateway.outcome_of({"status": "processing"}) == gateway.Outcome("processing")
    error = {
        "code": "card_declined",
        "message": "no",
        "decline_code": "generic_decline",
        "type": "card_error",
    }
    failed = gateway.outcome_of({"status": "requires_payment_method", "last_payment_error": error})
    assert failed == gateway.Outcome("failed", Failure("card_declined", "no", "generic_decline"))
    assert gateway.outcome_of({"status": "canceled"}) == gateway.Outcome("failed")
    waiting = gateway.outcome_of({"status": "requires_action", "last_payment_error": error})
    assert not waiting.awaiting_customer  # Stripe gave its own reason: that one is recorded

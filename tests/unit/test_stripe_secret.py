"""Where the Stripe keys come from in AWS: the secret named by STRIPE_SECRET_NAME, read once per few minutes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from ledger.domain.errors import PaymentProviderError
from ledger.payments import stripe_api


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("STRIPE_SECRET_NAME", "prepaid-credits/stripe")
    monkeypatch.setattr(stripe_api, "_secrets", {})
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name="prepaid-credits/stripe",
            SecretString=json.dumps({"api_key": "sk_live_1", "webhook_secret": "whsec_1"}),
        )
        yield "prepaid-credits/stripe"


def rotate(name: str, api_key: str) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=name, SecretString=json.dumps({"api_key": api_key, "webhook_secret": "whsec_1"})
    )


def test_the_keys_are_read_from_the_secret_and_a_rotation_is_seen_after_the_max_age(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stripe_api._setting("STRIPE_API_KEY", "api_key") == "sk_live_1"
    assert stripe_api.webhook_secret() == "whsec_1"
    rotate(secret, "sk_live_2")
    assert stripe_api._setting("STRIPE_API_KEY", "api_key") == "sk_live_1"  # the copy in hand
    clock = stripe_api.time.monotonic() + stripe_api.SECRET_MAX_AGE + 1
    monkeypatch.setattr(stripe_api.time, "monotonic", lambda: clock)
    assert stripe_api._setting("STRIPE_API_KEY", "api_key") == "sk_live_2"


def test_the_environment_takes_precedence_and_a_secret_without_the_key_is_a_provider_error(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    assert stripe_api._setting("STRIPE_API_KEY", "api_key") == "sk_test_local"
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret, SecretString=json.dumps({"api_key": "x"})
    )
    monkeypatch.setattr(stripe_api, "_secrets", {})
    with pytest.raises(PaymentProviderError, match="webhook_secret"):
        stripe_api.webhook_secret()

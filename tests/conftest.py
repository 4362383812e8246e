"""Fixtures: AWS through moto with the table created from template.yaml, and the journal fed from its stream."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

import boto3
import pytest
import stripe
from moto import mock_aws

from credits_local.moto_engine import answer_faster, roll_back_transactions_in_place
from credits_local.moto_engine import moto_server as start_moto_server
from devkit import localstripe, tables
from devkit.stream import StreamPump
from devkit.stripe_events import WEBHOOK_SECRET
from ledger.events import publisher
from ledger.store import changed
from ledger.store import table as ledger_table

# in-process moto as the local stack's server runs it: a transaction backs up the items it names, not every
# table it touches once per item (a 100-item transaction copied the whole table, stream and all, 100 times);
# answers written without walking botocore's model, queries reading one partition (the same answers)
roll_back_transactions_in_place()
answer_faster()

TABLE = "ledger-test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules that hold a slow test first, in their order, then the rest. ``make test`` gives each worker a
    whole module at a time in this order (``--dist loadscope --no-loadscope-reorder``): left to xdist's own
    order (most tests first), a single four-minute test started last and the other worker sat idle."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)  # stable: the rest keep their order


ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TABLE_NAME": TABLE,
    "DEFAULT_LOW_BALANCE_THRESHOLD": "100",
    "ACCOUNT_CLAIM": "custom:account_id",
    "ROLE_CLAIM": "custom:role",
    "POWERTOOLS_SERVICE_NAME": "prepaid-credits",
    "POWERTOOLS_METRICS_NAMESPACE": "PrepaidCredits",
    "LEDGER_RESULT_WAIT_SECONDS": "0",
    "EVENT_BUS_NAME": "prepaid-credits-notifications",
    "EXPIRY_REMINDER_DAYS": "30,7,1",
}


@contextmanager
def isolated_environment() -> Iterator[None]:
    """The functions' environment for tests: fake AWS credentials, no real endpoint, the test table."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("AWS_") or name == "DYNAMODB_ENDPOINT_URL":
                env.delenv(name, raising=False)
        for name, value in ENVIRONMENT.items():
            env.setenv(name, value)
        ledger_table.reset_client()
        publisher.reset_client()
        changed.forget_marks()  # each test's journal starts as a cold container
        yield
    ledger_table.reset_client()
    publisher.reset_client()


@pytest.fixture(autouse=True)
def _environment() -> Iterator[None]:
    with isolated_environment():
        yield


def create_table(name: str = TABLE, endpoint_url: str | None = None) -> None:
    tables.create_table(boto3.client("dynamodb", endpoint_url=endpoint_url), name)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call, with the ledger table created from template.yaml."""
    with mock_aws():
        create_table()
        yield
    ledger_table.reset_client()


@pytest.fixture
def journal(aws: None) -> StreamPump:
    """Call ``journal.pump()`` to run the journal function over what the table's stream has gathered."""
    return StreamPump(TABLE)


_table_numbers = count(1)


@pytest.fixture(scope="module")
def module_moto() -> Iterator[None]:
    """moto for a whole module: a fresh table per test costs far less than restarting moto per test."""
    with mock_aws():
        yield
    ledger_table.reset_client()


@pytest.fixture
def fresh_journal(module_moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StreamPump]:
    """A fresh table from template.yaml inside the module's moto, and the journal over its stream."""
    name = f"{TABLE}-{next(_table_numbers)}"
    monkeypatch.setenv("TABLE_NAME", name)
    ledger_table.reset_client()
    create_table(name)
    yield StreamPump(name)
    boto3.client("dynamodb").delete_table(TableName=name)


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One localstripe for the whole run (its own store file)."""
    with localstripe.running(tmp_path_factory.mktemp("localstripe")) as url:
        yield url


@pytest.fixture
def stripe_env(localstripe_url: str, monkeypatch: pytest.MonkeyPatch) -> stripe.StripeClient:
    """The functions talk to localstripe and verify webhooks with the test secret; returns a client of it."""
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe_url)
    return stripe.StripeClient("sk_test_local", base_addresses={"api": localstripe_url})


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    with start_moto_server() as url:
        yield url


@pytest.fixture
def server_table(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh table from template.yaml on the server; the ledger's client pointed at it."""
    name = f"ledger-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("TABLE_NAME", name)
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("LEDGER_RESULT_WAIT_SECONDS", "0")
    ledger_table.reset_client()
    create_table(name, moto_server)
    yield name
    ledger_table.reset_client()

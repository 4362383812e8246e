"""The operations measured: each prepares its account through the real code, then names the function and
the event that performs it. Adding an operation is one ``Operation(...)`` entry and, if it needs one, a
small preparation function."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

import ledger
from bench.stage import ENVIRONMENT, Stage
from credits_local.template import ROOT
from devkit.http import http_event, owner
from devkit.lambdas import invoke
from devkit.stripe_events import checkout_session, signed_delivery
from devkit.top_up import enable, receive, sqs_event
from ledger.store.schema import account_pk

ACCOUNT_ROUTE = "/accounts/{account_id}"
RETURN_URL = "https://app.example.com/billing"


def _service(method: str, path: str, account: str, body: Any = None, **params: str) -> dict[str, Any]:
    return http_event(method, ACCOUNT_ROUTE + path, {"account_id": account, **params}, body, iam=True)


def _owner(
    method: str, path: str, account: str, body: Any = None, query: dict[str, str] | None = None, **params: str
) -> dict[str, Any]:
    return http_event(
        method,
        ACCOUNT_ROUTE + path,
        {"account_id": account, **params},
        body,
        query=query,
        claims=owner(account),
    )


def funded(account: str, credits: int = 10_000) -> None:
    ledger.grant(account, credits, "promotional", "welcome")


def with_history(account: str, debits: int = 3) -> None:
    funded(account)
    for i in range(debits):
        ledger.debit(account, 10 + i, "render", f"past-{i}")


def debit_event(account: str, amount: int = 25, key: str = "job-1") -> dict[str, Any]:
    return _service(
        "POST", "/usage", account, {"amount": amount, "operation": "render", "idempotency_key": key}
    )


def _debit(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return debit_event(account)


def _debit_refused(stage: Stage, account: str) -> dict[str, Any]:
    funded(account, 10)
    return debit_event(account)


def _debit_replayed(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    invoke("debit", debit_event(account))
    return debit_event(account)


def expired_grant(account: str) -> None:
    """A trial grant that expired an hour ago, unswept, beside a live one."""
    then = datetime.now(UTC) - timedelta(hours=2)
    ledger.grant(account, 1_000, "promotional", "trial", expires_at=then + timedelta(hours=1), now=then)
    ledger.grant(account, 5_000, "subscription", "plan", now=then)


BATCH_EVENTS = 100


def _usage_batch(stage: Stage, account: str) -> dict[str, Any]:
    funded(account, 1_000_000)
    events = [
        {"account_id": account, "amount": 1 + i % 9, "operation": "tokens", "idempotency_key": f"req-{i}"}
        for i in range(BATCH_EVENTS)
    ]
    return http_event("POST", "/usage/batch", {}, {"events": events}, iam=True)


def _all_accepted(response: Any) -> None:
    results = json.loads(response["body"])["results"]
    if [r["status"] for r in results] != ["accepted"] * BATCH_EVENTS:
        raise RuntimeError(f"the batch did other work than measured: {response['body'][:300]}")


def _debit_settling_expiry(stage: Stage, account: str) -> dict[str, Any]:
    """A grant expired an hour ago, unswept: the next debit settles it (exactly) and then debits."""
    expired_grant(account)
    return debit_event(account)


def _hold(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return _service("POST", "/holds", account, {"amount": 100, "idempotency_key": "hold-1"})


def _placed_hold(account: str) -> str:
    funded(account)
    hold, _ = ledger.place_hold(account, 100, "hold-1")
    return hold.hold_id


def _capture(stage: Stage, account: str) -> dict[str, Any]:
    hold_id = _placed_hold(account)
    return _service("POST", "/holds/{hold_id}/capture", account, {"amount": 60}, hold_id=hold_id)


def _release(stage: Stage, account: str) -> dict[str, Any]:
    return _service("POST", "/holds/{hold_id}/release", account, hold_id=_placed_hold(account))


def _hold_read(stage: Stage, account: str) -> dict[str, Any]:
    return _service("GET", "/holds/{hold_id}", account, hold_id=_placed_hold(account))


def _grant(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    body = {"amount": 5_000, "source": "promotional", "idempotency_key": "promo-1"}
    return _service("POST", "/grants", account, body)


def _grant_expiring(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    expires_at = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    body = {"amount": 5_000, "source": "promotional", "idempotency_key": "promo-1", "expires_at": expires_at}
    return _service("POST", "/grants", account, body)


def _balance(stage: Stage, account: str) -> dict[str, Any]:
    with_history(account)
    return _owner("GET", "/balance", account)


def _history(stage: Stage, account: str) -> dict[str, Any]:
    with_history(account)
    return _owner("GET", "/transactions", account)


def _usage(stage: Stage, account: str) -> dict[str, Any]:
    with_history(account)
    today = date.today()
    window = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
    return _owner("GET", "/usage", account, query=window)


def _limits_read(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return _owner("GET", "/limits", account)


def _limits_write(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return _owner("PUT", "/limits", account, {"low_balance_threshold": 500, "hard_limit": 0})


def _packages(stage: Stage, account: str) -> dict[str, Any]:
    return http_event("GET", "/packages", {}, claims=owner(account))


def purchase_event(account: str) -> dict[str, Any]:
    body = {"package_id": "credits-1000", "mode": "checkout", "return_url": RETURN_URL}
    return _owner("POST", "/purchases", account, body)


def _purchase(stage: Stage, account: str) -> dict[str, Any]:
    return purchase_event(account)


def _started_purchase(account: str) -> dict[str, Any]:
    from devkit.http import parse

    status, made = parse(invoke("purchase", purchase_event(account)))
    assert status == 201, made
    return dict(made)


def _purchase_read(stage: Stage, account: str) -> dict[str, Any]:
    made = _started_purchase(account)
    return _owner("GET", "/purchases/{purchase_id}", account, purchase_id=made["purchase_id"])


def _purchase_credited(stage: Stage, account: str) -> dict[str, Any]:
    made = _started_purchase(account)
    made["account_id"] = account
    session = checkout_session(made["checkout_session_id"], made)
    return signed_delivery("checkout.session.completed", session)


def schedule(moment: datetime) -> dict[str, Any]:
    """The sample event of the sweep's schedule (events/expiry_sweep.json), firing at ``moment``."""
    sample = json.loads((ROOT / "events" / "expiry_sweep.json").read_text())
    return {**sample, "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _sweep_expiry(stage: Stage, account: str) -> dict[str, Any]:
    expired_grant(account)
    return schedule(datetime.now(UTC))


def _sweep_reminder(stage: Stage, account: str) -> dict[str, Any]:
    """A grant made 2 days ago that expires in 29 days: its 30-day reminder fell due a day ago."""
    now = datetime.now(UTC)
    then = now - timedelta(days=2)
    ledger.grant(account, 1_000, "promotional", "promo", expires_at=now + timedelta(days=29), now=then)
    return schedule(now)


def _swept(**expected: int) -> Callable[[Any], None]:
    def check(report: Any) -> None:
        if any(report[name] != value for name, value in expected.items()):
            raise RuntimeError(f"the sweep did other work than measured: {report}, expected {expected}")

    return check


def _records(stage: Stage, account: str, action: Callable[[], Any], sk: str) -> dict[str, Any]:
    """The notifications function's event: the one stream record of ``action`` on the item ``sk`` (or prefix)."""
    records = stage.records_of(action)
    key = account_pk(account)
    found = [
        r
        for r in records
        if r["dynamodb"]["Keys"]["pk"]["S"] == key and r["dynamodb"]["Keys"]["sk"]["S"].startswith(sk)
    ]
    if len(found) != 1:
        raise RuntimeError(f"expected one stream record of {sk!r}, found {len(found)}")
    return {"Records": found}


def _publish_outbox(stage: Stage, account: str) -> dict[str, Any]:
    delivery = _purchase_credited(stage, account)
    return _records(stage, account, lambda: invoke("stripe_webhook", delivery), "N#")


def _publish_low(stage: Stage, account: str) -> dict[str, Any]:
    funded(account, 150)
    return _records(stage, account, lambda: ledger.debit(account, 100, "render", "low"), "A")


def _publish_nothing(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return _records(stage, account, lambda: ledger.debit(account, 100, "render", "plenty"), "A")


def _no_failures(response: Any) -> None:
    if response.get("batchItemFailures"):
        raise RuntimeError(f"the publisher reported failed records: {response}")


def _auto_top_up_on(account: str, balance: int, threshold: int) -> None:
    """An account with ``balance`` credits and auto top-up on (1,000 credits, the saved card pm_card_visa)."""
    funded(account, balance)
    enable(account, threshold=threshold, amount=1_000, payment_method_id="pm_card_visa")


def _auto_top_up(stage: Stage, account: str) -> dict[str, Any]:
    """A debit takes the account below its threshold; the notifications function queues the top-up request;
    the function gets it as Lambda's SQS mapping hands it over."""
    _auto_top_up_on(account, 500, threshold=100)
    ledger.debit(account, 450, "render", "crossing")
    stage.settle()
    sqs, url = boto3.client("sqs"), ENVIRONMENT["AUTO_TOP_UP_QUEUE_URL"]
    messages = receive(sqs, url)
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    if [json.loads(m["Body"])["account_id"] for m in messages] != [account]:
        raise RuntimeError(f"expected one top-up request of {account}, found {messages}")
    return sqs_event(messages)


def _publish_top_up_request(stage: Stage, account: str) -> dict[str, Any]:
    """The same write as ``_publish_low``, auto top-up on: its threshold is the low-balance one too."""
    _auto_top_up_on(account, 150, threshold=100)
    return _records(stage, account, lambda: ledger.debit(account, 100, "render", "low"), "A")


def _publish_top_up_quiet(stage: Stage, account: str) -> dict[str, Any]:
    _auto_top_up_on(account, 10_000, threshold=100)
    return _records(stage, account, lambda: ledger.debit(account, 100, "render", "plenty"), "A")


def _billing_portal(stage: Stage, account: str) -> dict[str, Any]:
    funded(account)
    return _owner("POST", "/billing-portal", account, {"return_url": RETURN_URL})


@dataclass(frozen=True)
class Operation:
    name: str
    function: str  # functions/<function>/app.py
    prepare: Callable[[Stage, str], dict[str, Any]]  # sets the account up, returns the event
    status: int  # the answer the operation must get
    stripe: int = 0  # requests to Stripe it must make (checked)
    sqs: int = 0  # SQS requests it must make (checked)
    cold_start: bool = False  # the operation that stands for its function in the cold-start table
    note: str = ""
    check: Callable[[Any], None] | None = None  # raises if the answer shows other work than the row claims
    events: int | None = None  # EventBridge events it must end up publishing (checked when given)


OPERATIONS = [
    Operation("debit", "debit", _debit, 201, cold_start=True),
    Operation("debit refused (402)", "debit", _debit_refused, 402),
    Operation("debit replayed (same key)", "debit", _debit_replayed, 201),
    Operation(
        "debit settling 1 expired grant (expiry inline)",
        "debit",
        _debit_settling_expiry,
        201,
        note="a debit that comes before the sweep",
        events=1,
    ),
    Operation(
        f"usage batch ({BATCH_EVENTS} events, one account)",
        "usage_batch",
        _usage_batch,
        200,
        cold_start=True,
        note="two transactions (98 + 2 events), each with the account update, its batch item and the records",
        check=_all_accepted,
    ),
    Operation("hold", "holds", _hold, 201, cold_start=True),
    Operation("capture", "holds", _capture, 200),
    Operation("release", "holds", _release, 200),
    Operation("hold read", "holds", _hold_read, 200),
    Operation("grant", "grants", _grant, 201, cold_start=True, note="no expiry"),
    Operation(
        "grant with an expiry", "grants", _grant_expiring, 201, note="expires in 90 days: + 3 reminder items"
    ),
    Operation(
        "purchase credited by the webhook",
        "stripe_webhook",
        _purchase_credited,
        200,
        cold_start=True,
        note="checkout.session.completed, paid: grant, purchase, outbox item, 3 reminder items",
        events=1,
    ),
    Operation("purchase started (Checkout)", "purchase", _purchase, 201, cold_start=True, stripe=2),
    Operation("purchase read", "purchase", _purchase_read, 200),
    Operation("billing portal", "billing_portal", _billing_portal, 201, cold_start=True, stripe=2),
    Operation("balance card", "balance", _balance, 200, cold_start=True),
    Operation("history page (50)", "transactions", _history, 200, cold_start=True),
    Operation("usage breakdown (30 days)", "usage_report", _usage, 200, cold_start=True),
    Operation("limits read", "limits", _limits_read, 200, cold_start=True),
    Operation("limits write", "limits", _limits_write, 200),
    Operation("packages", "packages", _packages, 200, cold_start=True, note="no DynamoDB"),
    Operation(
        "expiry per expiring grant (sweep)",
        "expiry_sweep",
        _sweep_expiry,
        200,
        cold_start=True,
        note="a run with 1 due grant: its Query and invocation are shared by up to 100 due items",
        check=_swept(accounts=1, reminders=0, failed=0),
        events=1,
    ),
    Operation(
        "reminder sent (sweep)",
        "expiry_sweep",
        _sweep_reminder,
        200,
        note="a run with 1 due reminder: credits_expiring through the outbox",
        check=_swept(accounts=0, reminders=1, failed=0),
        events=1,
    ),
    Operation(
        "auto top-up (request → credits)",
        "auto_top_up",
        _auto_top_up,
        200,
        cold_start=True,
        note="one queued request: claim, off-session charge (localstripe), grant + purchase + outbox + release",
        check=_no_failures,
        events=1,
        stripe=1,
    ),
    Operation(
        "stream publisher per record: outbox item",
        "notifications",
        _publish_outbox,
        200,
        cold_start=True,
        note="credits_purchased",
        check=_no_failures,
        events=1,
    ),
    Operation(
        "stream publisher per record: account write crossing the low threshold",
        "notifications",
        _publish_low,
        200,
        note="credit_balance_low",
        check=_no_failures,
        events=1,
    ),
    Operation(
        "stream publisher per record: account write, nothing to announce",
        "notifications",
        _publish_nothing,
        200,
        note="a debit that crosses nothing",
        check=_no_failures,
        events=0,
    ),
    Operation(
        "stream publisher per record: account write crossing the auto top-up threshold",
        "notifications",
        _publish_top_up_request,
        200,
        note="auto top-up on: credit_balance_low and the top-up request (SendMessage)",
        check=_no_failures,
        events=1,
        sqs=1,
    ),
    Operation(
        "stream publisher per record: account write with auto top-up on, nothing to announce",
        "notifications",
        _publish_top_up_quiet,
        200,
        note="auto top-up on, a debit that crosses nothing",
        check=_no_failures,
        events=0,
    ),
]

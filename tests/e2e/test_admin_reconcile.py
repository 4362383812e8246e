"""credits-admin reconcile against the running local stack: nothing on a clean account, the planted
discrepancy (and a non-zero exit) otherwise, with Stripe (localstripe) read too."""

from __future__ import annotations

import json

import boto3

from credits_admin.target import local_stack
from tests.e2e.conftest import Stack


def test_admin_reconcile_finds_nothing_then_exactly_the_planted_drift(stack: Stack) -> None:
    account = "reconcile-e2e"
    body = {"amount": 100, "source": "promotional", "idempotency_key": "g"}
    assert stack.service_call("POST", f"/accounts/{account}/grants", body).status == 201
    debit = {"amount": 7, "operation": "render", "idempotency_key": "d1"}
    assert stack.service_call("POST", f"/accounts/{account}/usage", debit).status == 201
    assert len(stack.history(account, 2)) == 2

    clean = stack.admin("reconcile", "--account", account)
    assert clean.returncode == 0, clean.stderr
    assert "no discrepancy" in clean.stderr and clean.stdout == ""

    target = local_stack(stack.state.path)
    db = boto3.client(
        "dynamodb",
        endpoint_url=target.endpoint_url,
        region_name=target.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    db.update_item(
        TableName=target.table_name,
        Key={"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "A"}},
        UpdateExpression="ADD lifetime_spent :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    drifted = stack.admin("reconcile", "--account", account, "--no-payments")
    assert drifted.returncode == 1, drifted.stderr
    [line] = drifted.stdout.splitlines()
    found = json.loads(line)
    assert (found["account_id"], found["kind"], found["expected"], found["found"]) == (
        account,
        "lifetime_figures",
        93,
        92,
    )
    # the accounts the journal marked changed today include it
    changed = stack.admin("reconcile", "--no-payments")
    assert changed.returncode == 1 and any(
        json.loads(line)["account_id"] == account for line in changed.stdout.splitlines()
    )

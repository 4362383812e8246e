"""Which ledger table a command works on, and pointing the ledger library at it.

By default the local stack running from this repository (``make dev``; ``CREDITS_LOCAL_STATE_DIR`` or
``--state-dir`` for another): its engine's endpoint, and the ledger table found there with ListTables, reached
with dummy credentials. With ``--stack NAME [--region R]``, a deployed stack: the physical name of its
``LedgerTable`` from CloudFormation, reached with the caller's own AWS credentials."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LAYER = Path(__file__).resolve().parents[1] / "layers" / "ledger"
LOGICAL_ID = "LedgerTable"
LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = "local"


class TargetError(RuntimeError):
    """The table to work on cannot be found; the message says why."""


@dataclass(frozen=True)
class Target:
    table_name: str
    region: str
    endpoint_url: str | None = None  # None: AWS itself
    description: str = ""

    @property
    def local(self) -> bool:
        return self.endpoint_url is not None


def local_stack(state_dir: Path | None = None) -> Target:
    """The ledger table of the local stack running with ``state_dir`` (default: this repository's)."""
    from credits_local.state import StateDir, StateError

    try:
        running = StateDir(state_dir).running_stack()
    except StateError as error:
        raise TargetError(f"{error}, or name a deployed stack with --stack") from None
    db = boto3.client(
        "dynamodb",
        endpoint_url=running.moto_url,
        region_name=LOCAL_REGION,
        aws_access_key_id=LOCAL_CREDENTIALS,
        aws_secret_access_key=LOCAL_CREDENTIALS,
    )
    try:
        names = [n for page in db.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    except (BotoCoreError, ClientError) as error:
        raise TargetError(f"the local stack's engine at {running.moto_url} did not answer: {error}") from None
    expected = f"{running.stack_name}-{LOGICAL_ID}"
    if expected in names:
        name = expected
    elif len(names) == 1:
        name = names[0]
    else:
        raise TargetError(f"no table {expected} in the local stack at {running.moto_url} (tables: {names})")
    return Target(name, LOCAL_REGION, running.moto_url, f"the local stack's table {name}")


def deployed_stack(stack: str, region: str | None = None) -> Target:
    """The ledger table of the CloudFormation stack ``stack``, with the caller's credentials."""
    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        found = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=LOGICAL_ID)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise TargetError(f"stack {stack}: {message}") from None
    except BotoCoreError as error:
        raise TargetError(f"stack {stack}: {error}") from None
    name = found["StackResourceDetail"]["PhysicalResourceId"]
    where = cloudformation.meta.region_name
    return Target(name, where, None, f"table {name} of stack {stack} in {where}")


def choose(stack: str | None, region: str | None, state_dir: Path | None) -> Target:
    return deployed_stack(stack, region) if stack else local_stack(state_dir)


def use(target: Target) -> None:
    """Point the ledger library (``TABLE_NAME``, ``DYNAMODB_ENDPOINT_URL``) at the target's table. The
    library ships as a layer (layers/ledger), not with this project: it is imported from there."""
    if str(LAYER) not in sys.path and LAYER.is_dir():
        sys.path.insert(0, str(LAYER))
    from ledger.store import table

    os.environ["TABLE_NAME"] = target.table_name
    os.environ["AWS_DEFAULT_REGION"] = target.region
    if target.local:
        os.environ["DYNAMODB_ENDPOINT_URL"] = target.endpoint_url or ""
        os.environ["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS
        os.environ["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
    else:
        os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
    table.reset_client()

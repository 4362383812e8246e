"""credits-admin reconcile: check accounts against the ledger's rules and Stripe, print what disagrees.

Read-only: no checkpoint moves, nothing is announced, the scheduled run's window is left as it is. Every
account walked from its first entry. Exits 1 when anything disagrees (a discrepancy per line on standard output,
as JSON), 0 when all is right."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from credits_admin.target import Target, TargetError

STRIPE_SECRET = "StripeSecret"
DEFAULT_DAYS = 1


def arguments(parser: argparse.ArgumentParser, time: Callable[[str], datetime]) -> None:
    parser.add_argument("--account", help="reconcile this account only (default: the accounts that changed)")
    parser.add_argument(
        "--since", type=time, help=f"changes and payments since this time (default: {DEFAULT_DAYS} day ago)"
    )
    parser.add_argument("--no-payments", action="store_true", help="leave Stripe out")


def point_at_stripe(target: Target, stack: str | None, region: str | None, state_dir: Path | None) -> None:
    """The ledger's Stripe settings for the target: the local stack's localstripe, or the deployed stack's
    Stripe secret (read with the caller's credentials)."""
    if target.local:
        from credits_local.localstripe_server import API_KEY
        from credits_local.state import StateDir

        os.environ["STRIPE_API_BASE"] = StateDir(state_dir).running_stack().stripe_url
        os.environ["STRIPE_API_KEY"] = API_KEY
        return
    try:
        found = boto3.client("cloudformation", region_name=region).describe_stack_resource(
            StackName=str(stack), LogicalResourceId=STRIPE_SECRET
        )
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"stack {stack}: no {STRIPE_SECRET}: {error}") from None
    os.environ["STRIPE_SECRET_NAME"] = found["StackResourceDetail"]["PhysicalResourceId"]


def run(args: argparse.Namespace, target: Target) -> int:
    from ledger.usecases.reconcile import reconcile_account, reconcile_changed
    from ledger.usecases.reconcile_payments import reconcile_payments

    now = datetime.now(UTC)
    since = args.since or now - timedelta(days=DEFAULT_DAYS)
    payments = not args.no_payments
    if payments:
        point_at_stripe(target, args.stack, args.region, args.state_dir)
    if args.account:
        drifts = reconcile_account(args.account, now, full=True, record=False).drifts
        checked = f"account {args.account}"
        if payments:
            found = reconcile_payments(since, now, [args.account])
            drifts += [d for d in found.drifts if d.account_id == args.account]
            checked += f" and its payments since {since.isoformat()}"
    else:
        report = reconcile_changed(now, since, payments=payments, on_demand=True)
        drifts = report.drifts
        checked = f"{report.accounts} accounts changed since {since.isoformat()}"
        if payments and report.payments is None:
            print("credits-admin: Stripe could not be read: payments were not reconciled", file=sys.stderr)
        elif report.payments is not None:
            checked += f", {report.payments.intents} payments and {report.payments.purchases} purchases"
    for drift in drifts:
        print(json.dumps(drift.to_map(), sort_keys=True, default=str))
    verdict = f"{len(drifts)} discrepancies" if drifts else "no discrepancy"
    print(f"reconciled {checked} in {target.description}: {verdict}", file=sys.stderr)
    return 1 if drifts else 0

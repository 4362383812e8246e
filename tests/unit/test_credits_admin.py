"""credits-admin's target selection when there is nothing to work on: clear messages, non-zero exits."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from credits_admin import cli
from credits_admin.target import TargetError, deployed_stack


def test_export_without_a_running_local_stack_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["export", "--account", "acme", "--state-dir", str(tmp_path)])
    assert status == 1
    assert "no local stack is running" in capsys.readouterr().err


def test_an_unknown_deployed_stack_is_named_in_the_error() -> None:
    with mock_aws(), pytest.raises(TargetError, match="stack nosuch"):
        deployed_stack("nosuch", "us-east-1")


def test_every_command_is_in_the_dispatcher_with_its_arguments() -> None:
    names = [name for name, *_ in cli.COMMANDS]
    assert names == ["export", "reconcile", "hot"]
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["hot", "--account", "acme"])  # --shards is required
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["export"])  # --account is required
    args = cli.parser().parse_args(["reconcile", "--since", "2026-11-01T00:00:00Z", "--no-payments"])
    assert (args.account, args.since.year, args.no_payments, args.stack) == (None, 2026, True, None)
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["reconcile", "--since", "yesterday"])  # not a time

"""credits-admin: operators' commands on a ledger's table, read directly through the ledger library.

credits-admin export --account ID [--format csv|jsonl] [--from T] [--to T] [--out FILE]
credits-admin reconcile [--account ID] [--since T] [--no-payments]
credits-admin hot --account ID --shards N
      each also takes [--stack NAME [--region R]] [--state-dir DIR]

Without --stack, the command works on the local stack running from this repository (make dev).

A command is a function ``cmd_<name>(args) -> exit status`` and a ``_<name>_arguments(parser)``, listed in
``COMMANDS``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TextIO

from credits_admin import reconcile
from credits_admin.target import TargetError, choose, use


class CommandError(RuntimeError):
    """A command could not do what it was asked; the message says why."""


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (e.g. 2026-11-21T00:00:00Z)")
    return moment


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="a deployed stack's name (default: the running local stack)")
    parser.add_argument("--region", help="the deployed stack's region (default: the AWS configuration's)")
    parser.add_argument("--state-dir", type=Path, help="the local stack's state directory")


# export -----------------------------------------------------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True, help="the account whose history to export")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--from", dest="start", type=_time, help="from this time (inclusive, ISO 8601)")
    parser.add_argument("--to", dest="end", type=_time, help="to this time (exclusive, ISO 8601)")
    parser.add_argument("--out", type=Path, help="the file to write (default: standard output)")


def cmd_export(args: argparse.Namespace) -> int:
    """Write the account's history (or the window's) in seq order, oldest first, a page at a time."""
    if args.start and args.end and args.end <= args.start:
        raise CommandError("--to must be after --from")
    target = choose(args.stack, args.region, args.state_dir)
    use(target)
    import ledger
    from ledger.usecases.export import lines

    with ExitStack() as files:
        out: TextIO = (
            files.enter_context(args.out.open("w", encoding="utf-8", newline="")) if args.out else sys.stdout
        )
        count = -1 if args.format == "csv" else 0  # the header is a line too
        for line in lines(ledger.export_entries(args.account, args.start, args.end), args.format):
            out.write(line)
            count += 1
    print(f"exported {count} entries of {args.account} from {target.description}", file=sys.stderr)
    return 0


# reconcile --------------------------------------------------------------------------------------------------


def _reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    reconcile.arguments(parser, _time)


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Check accounts against the ledger's rules and Stripe; print each discrepancy; exit 1 if any."""
    target = choose(args.stack, args.region, args.state_dir)
    use(target)
    return reconcile.run(args, target)


# hot --------------------------------------------------------------------------------------------------------


def _hot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True, help="the account to make hot (or not)")
    parser.add_argument(
        "--shards", required=True, type=int, help="spend shards: 2 to 32, or 0 to make it not hot"
    )


def cmd_hot(args: argparse.Namespace) -> int:
    """Spread an account's debits over spend shards (a hot account), or gather them back (0)."""
    target = choose(args.stack, args.region, args.state_dir)
    use(target)
    import ledger

    try:
        shards = ledger.set_spend_shards(args.account, args.shards)
    except ledger.LedgerError as error:
        raise CommandError(error.message) from None
    state = f"hot with {shards} spend shards" if shards else "not hot"
    print(f"{args.account} is {state} on {target.description}", file=sys.stderr)
    return 0


# dispatch ---------------------------------------------------------------------------------------------------

Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: list[Command] = [
    ("export", "write an account's history as CSV or JSON Lines", _export_arguments, cmd_export),
    ("reconcile", "check accounts and payments, print what disagrees", _reconcile_arguments, cmd_reconcile),
    ("hot", "spread an account's debits over spend shards, or not", _hot_arguments, cmd_hot),
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="credits-admin", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, help, arguments, run in COMMANDS:
        command = commands.add_parser(name, help=help, description=help)
        arguments(command)
        _target_arguments(command)
        command.set_defaults(run=run)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (CommandError, TargetError, OSError) as error:
        print(f"credits-admin: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

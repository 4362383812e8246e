"""credits-local: the Prepaid Credits system on this machine, without Docker.

credits-local up                                   start the stack in the foreground (make dev)
credits-local token --account ACME --role owner    a bearer token for the account routes
credits-local token --service                      the service credential (ACCESS_KEY:SECRET, for SigV4)
credits-local url                                  the gateway's URL
credits-local invoke FUNCTION --event FILE         run a function once against the running stack
credits-local trigger FUNCTION [--time T]          fire a scheduled function as of time T
credits-local pay PURCHASE_ID [--card CARD]        pay a pending purchase in localstripe
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from credits_local import DEFAULT_PORT, STACK_NAME
from credits_local.state import StateDir, StateError
from credits_local.template import DEFAULT_TEMPLATE, Template, TemplateError

# The stack's and the payments' modules import much (boto3, moto, stripe, aiohttp): the commands that
# need them import them, so token, url, invoke and trigger answer quickly.


class CommandError(RuntimeError):
    """A command could not do what it was asked; the message says why."""


def _parameters(pairs: list[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise TemplateError(f"--parameter takes NAME=VALUE, not {pair!r}")
        parameters[name] = value
    return parameters


def _port(text: str | None, default: int) -> int:
    return int(text) if text else default


def _template(args: argparse.Namespace, state: StateDir) -> Template:
    """--template with --parameter if given, else the running stack's template and parameters, else the
    repository's template."""
    if args.template is not None:
        return Template.from_file(args.template, _parameters(args.parameter))
    try:
        running = state.running_stack()
    except StateError:
        return Template.from_file(DEFAULT_TEMPLATE, _parameters(args.parameter))
    return Template.from_file(Path(running.template), {**running.parameters, **_parameters(args.parameter)})


def _local_call(state: StateDir, path: str, payload: Any) -> Any:
    url = state.running_stack().gateway_url + path
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise StateError(json.load(error).get("message", str(error))) from None


def _print_result(answer: Any) -> int:
    print(json.dumps(answer, indent=2))
    failed = isinstance(answer, dict) and "error" in answer and "trace" in answer
    if failed:
        print(answer["trace"], file=sys.stderr)
    return 1 if failed else 0


def cmd_up(args: argparse.Namespace) -> int:
    from credits_local.children import ChildError
    from credits_local.gateway import PortInUse
    from credits_local.schedules import ScheduleError
    from credits_local.stack import Options, up

    options = Options(
        template=args.template or DEFAULT_TEMPLATE,
        state_dir=args.state_dir,
        port=args.port
        if args.port is not None
        else _port(os.environ.get("CREDITS_LOCAL_PORT"), DEFAULT_PORT),
        engine_port=args.engine_port,
        stripe_port=args.stripe_port,
        stack_name=args.stack_name,
        parameters=_parameters(args.parameter),
    )
    try:
        up(options)
    except (PortInUse, ScheduleError, ChildError) as error:
        raise CommandError(str(error)) from None
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from credits_local.authorizers import JwtSettings, mint_token

    state = StateDir(args.state_dir)
    if args.service:
        print(state.service_credential())
        return 0
    if not args.account:
        raise TemplateError("token needs --account (or --service)")
    template = _template(args, state)
    parameters = template.parameters()
    settings = JwtSettings(parameters["JwtIssuer"], parameters["JwtAudience"])
    claims = {
        "sub": args.subject or f"user-of-{args.account}",
        parameters.get("AccountClaim", "custom:account_id"): args.account,
        parameters.get("RoleClaim", "custom:role"): args.role,
    }
    print(mint_token(state.signing_key(), settings, claims, args.expires_in))
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    print(StateDir(args.state_dir).running_stack().gateway_url)
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    event = json.loads(Path(args.event).read_text()) if args.event else {}
    return _print_result(_local_call(StateDir(args.state_dir), f"/_local/invoke/{args.function}", event))


def cmd_trigger(args: argparse.Namespace) -> int:
    payload = {"time": args.time} if args.time else {}
    return _print_result(_local_call(StateDir(args.state_dir), f"/_local/trigger/{args.function}", payload))


def cmd_pay(args: argparse.Namespace) -> int:
    from credits_local.payments import PaymentError, pay

    try:
        paid = pay(StateDir(args.state_dir).running_stack().stripe_url, args.purchase_id, args.card)
    except PaymentError as error:
        raise CommandError(str(error)) from None
    for step in paid.steps:
        print(step)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="credits-local", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    root.add_argument(
        "--state-dir",
        type=Path,
        help="where the key, the service credential and the running stack's ports live"
        " (default: $CREDITS_LOCAL_STATE_DIR or .credits-local/ in the repository)",
    )
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return sub

    start = command("up", "start the local stack in the foreground; Ctrl-C stops it")
    start.add_argument(
        "--template", type=Path, help="the SAM template (default: the repository's template.yaml)"
    )
    start.add_argument(
        "--port",
        type=int,
        help=f"the gateway's port (default: $CREDITS_LOCAL_PORT or {DEFAULT_PORT}; 0: any free port)",
    )
    start.add_argument("--engine-port", type=int, default=0, help="moto's port (default: a free one)")
    start.add_argument("--stripe-port", type=int, default=0, help="localstripe's port (default: a free one)")
    start.add_argument("--stack-name", default=STACK_NAME, help="prefix of the local resource names")
    start.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="a template parameter"
    )
    start.set_defaults(run=cmd_up)

    token = command("token", "print a bearer token for the account routes, or the service credential")
    token.add_argument("--account", help="the account the token belongs to")
    token.add_argument("--role", default="owner", help="the role within the account (default: owner)")
    token.add_argument("--subject", help="the sub claim (default: user-of-ACCOUNT)")
    token.add_argument("--expires-in", type=int, default=3600, help="seconds (default: 3600)")
    token.add_argument(
        "--service", action="store_true", help="print ACCESS_KEY:SECRET for SigV4-signed service routes"
    )
    token.add_argument(
        "--template", type=Path, help="read issuer, audience and claim names from this template"
    )
    token.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    token.set_defaults(run=cmd_token)

    url = command("url", "print the running gateway's URL")
    url.set_defaults(run=cmd_url)

    invoke = command("invoke", "run a function once against the running stack and print its result")
    invoke.add_argument("function", help="the template's logical id, e.g. BalanceFunction")
    invoke.add_argument("--event", help="a JSON event file, e.g. events/balance.json")
    invoke.set_defaults(run=cmd_invoke)

    trigger = command("trigger", "fire a scheduled function now, with the event's time as given")
    trigger.add_argument("function", help="the template's logical id")
    trigger.add_argument("--time", help="the event's time, e.g. 2027-11-22T00:00:00Z (default: now)")
    trigger.set_defaults(run=cmd_trigger)

    payment = command("pay", "pay a pending purchase in localstripe with a test card")
    payment.add_argument("purchase_id")
    payment.add_argument(
        "--card", choices=("visa", "declined", "3ds"), default="visa", help="visa (default), declined or 3ds"
    )
    payment.set_defaults(run=cmd_pay)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (CommandError, StateError, TemplateError, OSError) as error:
        print(f"credits-local: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

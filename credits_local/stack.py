"""``credits-local up``: the whole system from the template, in the foreground, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credits_local import DEFAULT_PORT, STACK_NAME
from credits_local import functions as runtime
from credits_local.authorizers import JwtSettings
from credits_local.children import Launch
from credits_local.console_site import ConsoleSettings, WithConsole
from credits_local.cors import WithCors, cors_of
from credits_local.events import BusTap
from credits_local.functions import FunctionPool, FunctionSpec
from credits_local.gateway import Authorizers, Gateway, GatewayServer, LocalEndpoints
from credits_local.localstripe_server import API_KEY, register_webhook
from credits_local.queues import QueueMapping, QueuePoller
from credits_local.resources import REGION, Deployed, client, deploy
from credits_local.routes import routes_of
from credits_local.schedules import Schedule, Scheduler, parse_time
from credits_local.state import RunningStack, StateDir
from credits_local.streams import Delivery, StreamMapping, StreamPoller, StreamReader
from credits_local.template import DEFAULT_TEMPLATE, Function, Template

WEBHOOK_PATH = "/webhooks/stripe"


@dataclass
class Options:
    template: Path = DEFAULT_TEMPLATE
    state_dir: Path | None = None
    port: int = DEFAULT_PORT
    engine_port: int = 0
    stripe_port: int = 0
    stack_name: str = STACK_NAME
    parameters: dict[str, str] = field(default_factory=dict)


def _say(component: str, text: str) -> None:
    print(f"{component:<10} {text}", flush=True)


def function_environment(
    function: Function, deployed: Deployed, function_name: str, local: dict[str, str]
) -> dict[str, str]:
    """The function's environment as in Lambda: the runtime's variables, the template's (Globals and its
    own, resolved to the local names), then the local endpoints and fake credentials."""
    template_variables = {k: str(deployed.resolver.resolve(v)) for k, v in function.environment.items()}
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        **template_variables,
        **local,
    }


class LocalStack:
    """The running parts, once started: what the gateway and the CLI's /_local calls use."""

    def __init__(
        self, template: Template, deployed: Deployed, pools: dict[str, FunctionPool], tap: BusTap
    ) -> None:
        self.template, self.deployed, self.pools, self.tap = template, deployed, pools, tap
        region = REGION
        self.schedules: dict[str, list[Schedule]] = {}
        for function in template.functions().values():
            for kind in ("Schedule", "ScheduleV2"):
                for name, props in function.events_of(kind).items():
                    schedule = Schedule.from_event(
                        function.logical_id, name, kind, deployed.resolver.resolve(props), region
                    )
                    self.schedules.setdefault(function.logical_id, []).append(schedule)

    def invoke(self, function: str, event: Any) -> Any:
        return self.pools[function].invoke(event)

    def trigger(self, function: str, at: str | None) -> Any:
        if function not in self.pools:
            raise KeyError(function)
        schedules = self.schedules.get(function)
        if not schedules:
            raise ValueError(f"{function} has no Schedule or ScheduleV2 event")
        moment = parse_time(at) if at else datetime.now(UTC).replace(microsecond=0)
        return self.pools[function].invoke(schedules[0].event(moment))

    def events(self) -> list[dict[str, Any]]:
        return self.tap.events()


def _local_environment(engine_url: str, stripe_url: str, webhook_secret: str) -> dict[str, str]:
    """What every function gets on top of its template environment: the local endpoints, fake credentials,
    and none of this machine's own AWS settings."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ENDPOINT_URL": engine_url,
        "DYNAMODB_ENDPOINT_URL": engine_url,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "STRIPE_API_BASE": stripe_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _pools(template: Template, deployed: Deployed, local: dict[str, str]) -> dict[str, FunctionPool]:
    pools = {}
    for function in template.functions().values():
        name = deployed.resolver.refs[function.logical_id]
        spec = FunctionSpec(
            logical_id=function.logical_id,
            name=name,
            arn=deployed.resolver.attributes[f"{function.logical_id}.Arn"],
            handler=function.handler,
            code_dir=str(function.code_dir),
            layer_dirs=[str(d) for d in template.layer_dirs(function)],
            environment=function_environment(function, deployed, name, local),
            timeout=function.timeout,
            memory=function.memory,
        )
        pools[function.logical_id] = FunctionPool(spec)
    return pools


def _stream_pollers(
    template: Template, deployed: Deployed, pools: dict[str, FunctionPool], engine_url: str
) -> list[StreamPoller]:
    streams, sqs = client("dynamodbstreams", engine_url), client("sqs", engine_url)
    pollers = []
    for function in template.functions().values():
        pool = pools[function.logical_id]
        for props in function.events_of("DynamoDB").values():
            resolved = deployed.resolver.resolve(props)
            mapping = StreamMapping.from_event(
                function.logical_id, pool.spec.arn, resolved, deployed.queue_urls
            )
            reader = StreamReader(streams, mapping.stream_arn, mapping.starting_position)
            pollers.append(StreamPoller(reader, Delivery(mapping, pool.invoke, sqs)))
            _say(
                "stream",
                f"{function.logical_id} ← {mapping.stream_arn.split('/')[1]} (batch {mapping.batch_size},"
                f" {len(mapping.filters)} filter(s), retries {mapping.maximum_retry_attempts},"
                f" bisect {'on' if mapping.bisect_on_error else 'off'},"
                f" partial failures {'on' if mapping.report_batch_item_failures else 'off'})",
            )
    return pollers


def _queue_pollers(
    template: Template, deployed: Deployed, pools: dict[str, FunctionPool], engine_url: str
) -> list[QueuePoller]:
    """A poller for each enabled SQS event of a function; each mapping said in one line."""
    sqs = client("sqs", engine_url)
    pollers = []
    for function in template.functions().values():
        pool = pools[function.logical_id]
        for props in function.events_of("SQS").values():
            mapping = QueueMapping.from_event(
                function.logical_id, deployed.resolver.resolve(props), deployed.queue_urls
            )
            mapping.check_visibility_timeout(sqs, function.timeout)
            if mapping.enabled:
                pollers.append(QueuePoller(mapping, pool.invoke, sqs))
            _say(
                "sqs",
                f"{function.logical_id} ← {mapping.queue_name} (batch {mapping.batch_size},"
                f" {len(mapping.filters)} filter(s),"
                f" partial failures {'on' if mapping.report_batch_item_failures else 'off'})"
                + ("" if mapping.enabled else " (disabled)"),
            )
    return pollers


def _jwt_authorizers(template: Template, deployed: Deployed) -> dict[str, JwtSettings]:
    """Each HttpApi's JWT authorizers: name → issuer and (first) audience."""
    settings = {}
    for api in template.resources("AWS::Serverless::HttpApi").values():
        for name, authorizer in api.get("Properties", {}).get("Auth", {}).get("Authorizers", {}).items():
            config = deployed.resolver.resolve(authorizer.get("JwtConfiguration", {}))
            audience = config.get("audience", [])
            settings[name] = JwtSettings(config.get("issuer", ""), audience[0] if audience else "")
    return settings


def up(options: Options) -> None:
    """Start everything, say where it listens, and run until SIGINT or SIGTERM; then stop it all, in order."""
    began = time.monotonic()
    template = Template.from_file(options.template, options.parameters)
    state = StateDir(options.state_dir)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    # Each step registers how to undo it; they are undone in reverse: the gateway stops taking requests,
    # the pollers and the scheduler stop, the function instances end, then localstripe and the engine.
    with ExitStack() as stack:
        lock = stack.enter_context(state.locked())
        server = GatewayServer("127.0.0.1", options.port)  # fails at once if the port is taken
        stack.callback(server.server_close)
        gateway_url = f"http://127.0.0.1:{server.port}"
        print(f"credits-local: starting {options.template} (state in {state.path})", flush=True)

        engine_args = ["127.0.0.1", str(options.engine_port)]
        engine_launch = Launch("moto", "credits_local.moto_engine", engine_args, "/moto-api/")
        stack.callback(engine_launch.stop)
        stripe_args = [str(options.stripe_port), str(state.stripe_store)]
        stripe_launch = Launch("localstripe", "credits_local.localstripe_server", stripe_args)
        stack.callback(stripe_launch.stop)
        stack.callback(runtime.stop_forkserver)
        runtime.start_forkserver()  # the three start side by side

        engine = engine_launch.ready()
        deployed = deploy(template, options.stack_name, engine.url)
        tables = ", ".join(f"{k} = {v}" for k, v in deployed.table_names.items())
        buses = ", ".join(f"{k} = {v}" for k, v in deployed.bus_names.items())
        _say(
            "engine",
            f"{engine.url}  DynamoDB, EventBridge, SQS (moto, one request at a time): {tables}; {buses}",
        )

        stripe = stripe_launch.ready()
        secret = state.webhook_secret()
        register_webhook(stripe.url, gateway_url + WEBHOOK_PATH, secret)
        _say("stripe", f"{stripe.url}  localstripe; webhook → {gateway_url}{WEBHOOK_PATH}")

        pools = _pools(template, deployed, _local_environment(engine.url, stripe.url, secret))
        for pool in pools.values():
            stack.callback(pool.stop)
        _say("functions", f"{len(pools)}: {', '.join(pools)} (one process per instance, started on demand)")

        buses_tapped = list(deployed.bus_names.values())
        tap = BusTap(
            client("events", engine.url), client("sqs", engine.url), options.stack_name, buses_tapped
        )
        tap.start()
        stack.callback(tap.stop)
        _say(
            "events",
            f"{buses or 'no bus'}: one JSON line per event here, and GET {gateway_url}/_local/events",
        )

        for poller in [
            *_stream_pollers(template, deployed, pools, engine.url),
            *_queue_pollers(template, deployed, pools, engine.url),
        ]:
            poller.start()
            stack.callback(poller.stop)

        running = LocalStack(template, deployed, pools, tap)
        all_schedules = [s for group in running.schedules.values() for s in group]
        scheduler = Scheduler(all_schedules, running.invoke)
        scheduler.start()
        stack.callback(scheduler.stop)
        for schedule in all_schedules:
            state_text = "" if schedule.enabled else " (disabled: fire it with credits-local trigger)"
            _say("schedule", f"{schedule.function} {schedule.expression.text}{state_text}")

        routes = routes_of(template.functions())
        jwt_settings = _jwt_authorizers(template, deployed)
        keys = Authorizers(jwt_settings, state.signing_key().public_key(), state.service_credential())
        local = LocalEndpoints(running.events, running.invoke, running.trigger)
        cors = cors_of(template, deployed.resolver)
        parameters = template.parameters()
        # the demo console's sign-in mints tokens for the API's (first) JWT authorizer
        console = ConsoleSettings(
            gateway_url,
            stripe.url,
            state.signing_key(),
            next(iter(jwt_settings.values()), JwtSettings("", "")),
            parameters.get("AccountClaim", "custom:account_id"),
            parameters.get("RoleClaim", "custom:role"),
            state.service_credential(),
        )
        server.start(WithCors(WithConsole(Gateway(routes, pools, keys, local), console), cors))
        stack.callback(server.shutdown)
        kinds = sorted({r.authorizer for r in routes})
        counts = ", ".join(f"{sum(r.authorizer == k for r in routes)} {k}" for k in kinds)
        _say("gateway", f"{gateway_url}  {len(routes)} routes ({counts})")
        origins = ", ".join(cors.allow_origins) if cors and cors.allow_origins else "none"
        _say("cors", f"origins allowed to call the API from a browser (ConsoleOrigins): {origins}")
        _say("console", f"{gateway_url}/console  the demo credits console (sign in as any account and role)")

        where = RunningStack(
            os.getpid(),
            gateway_url,
            engine.url,
            stripe.url,
            options.stack_name,
            str(template.path),
            template.parameter_overrides,
        )
        lock.publish(where)
        print(f"ready in {time.monotonic() - began:.1f} s; Ctrl-C stops everything", flush=True)
        for pool in pools.values():
            threading.Thread(target=_warm, args=(pool,), daemon=True).start()
        stopping.wait()
        print("credits-local: stopping", flush=True)
    print("credits-local: stopped", flush=True)


def _warm(pool: FunctionPool) -> None:
    """Start a function's first instance ahead of its first call."""
    try:
        pool.warm()
    except Exception as error:
        print(f"{pool.spec.logical_id} could not start: {error}", flush=True)

"""Cold start and warm overhead, each measured in fresh child interpreters against the stub endpoint.

Cold start: a child imports the handler module and serves one invocation; the median over the runs is
compared with the baseline (``bare.get_item``) measured in the same run, the functions taken in turn so that
other load on the machine falls on all of them alike. Warm overhead: one child per scenario invokes the real
handler and ``bare.same_calls`` (the same DynamoDB requests, nothing else) alternately.
"""

from __future__ import annotations

import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.costs import Scenario
from bench.functions import timeout_ms
from bench.stage import ENVIRONMENT
from bench.stub import Script, stub_endpoint
from devkit.stripe_events import sign

ROOT = Path(__file__).resolve().parents[1]
LAYER_REQUIREMENTS = ROOT / "layers" / "ledger" / "requirements.txt"
WORKER = ROOT / "bench" / "worker.py"
BARE = ROOT / "bench" / "bare.py"
STRIPE_FUNCTIONS = {"stripe_webhook", "purchase", "billing_portal", "auto_top_up", "auto_top_up_settings"}
BASELINE = "baseline: boto3 client + 1 GetItem"
COLD_TARGET, COLD_TARGET_STRIPE, WARM_TARGET = 1.3, 1.6, 2.0


# what the Lambda runtime provides besides the layer's requirements
RUNTIME_DISTRIBUTIONS = ("boto3",)


def _closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need, their own requirements included (extras left out)."""
    seen: set[str] = set()
    while names:
        name = re.split(r"[^A-Za-z0-9_.\-]", names.pop().strip(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        names.extend(r for r in requires if "extra ==" not in r and "extra==" not in r)
    return seen


def not_in_layer() -> list[str]:
    """The installed top-level modules a deployed function cannot import: all but the layer's requirements and
    the runtime's boto3, with what they require. The dev environment holds more (localstripe brings aiohttp,
    which stripe imports at start-up when it finds it), and a cold start must not pay for what the function
    will not have."""
    wanted = [
        line for line in LAYER_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")
    ]
    allowed = _closure([*wanted, *RUNTIME_DISTRIBUTIONS])
    return sorted(
        module
        for module, owners in metadata.packages_distributions().items()
        if not any(owner.lower().replace("_", "-") in allowed for owner in owners)
    )


def _env(url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")}
    return {
        **keep,
        **ENVIRONMENT,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_ENDPOINT_URL_DYNAMODB": url,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": url,
        "AWS_ENDPOINT_URL_SQS": url,
        "DYNAMODB_ENDPOINT_URL": url,
        "STRIPE_API_BASE": url,
        "PYTHONPATH": str(ROOT / "layers" / "ledger"),
        # every warm invocation writes the changed-account marker, as the recorded (first) one did
        "CHANGED_MARKS_REMEMBERED": "0",
    }


def _fresh(event: dict[str, Any]) -> dict[str, Any]:
    """The event, with a Stripe signature made now (deliveries older than 5 minutes are refused)."""
    event = copy.deepcopy(event)
    if "stripe-signature" in event.get("headers", {}):
        event["headers"]["stripe-signature"] = sign(event["body"])
    return event


def _run(spec: dict[str, Any], url: str, script: Script, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, str(WORKER), str(spec_path), str(out_path)],
            env=_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{label}: the worker failed\n{done.stderr[-3000:]}")
        if script.mismatches:
            raise RuntimeError(f"{label}: requests differed from the recording: {script.mismatches[:3]}")
        result: dict[str, Any] = json.loads(out_path.read_text())
        return result


def _handler_spec(scenario: Scenario) -> dict[str, Any]:
    return {
        "path": str(ROOT / "functions" / scenario.function / "app.py"),
        "handler": "handler",
        "remaining_ms": timeout_ms(scenario.function),
    }


@dataclass
class ColdStart:
    function: str
    scenario: str
    runs: int
    median_ms: float
    import_ms: float
    ratio: float
    target: float

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


def cold_starts(scenarios: list[Scenario], baseline: Scenario, runs: int) -> list[ColdStart]:
    chosen = [s for s in scenarios if s.cold_start]
    cases: list[tuple[str, Scenario, dict[str, Any]]] = [
        (BASELINE, baseline, {"path": str(BARE), "handler": "get_item"}),
        *[(s.function, s, _handler_spec(s)) for s in chosen],
    ]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
    absent = not_in_layer()
    with stub_endpoint() as (url, script):
        for run in range(runs):
            shift = run % len(cases)
            for name, scenario, handler in cases[shift:] + cases[:shift]:
                script.load(scenario.exchanges, scenario.stripe)
                spec = {**handler, "event": _fresh(scenario.event), "not_in_layer": absent}
                result = _run(spec, url, script, f"cold start of {name}")
                times[name].append((result["cold_ms"], result["import_ms"]))
    base = statistics.median(t for t, _ in times[BASELINE])
    rows = []
    for name, scenario, _ in cases:
        median = statistics.median(t for t, _ in times[name])
        target = COLD_TARGET_STRIPE if name in STRIPE_FUNCTIONS else COLD_TARGET
        imported = statistics.median(i for _, i in times[name])
        label = "" if name == BASELINE else scenario.name
        rows.append(ColdStart(name, label, runs, median, imported, median / base, target))
    return rows


@dataclass
class WarmOverhead:
    scenario: str
    function: str
    requests: int
    invocations: int
    median_ms: float
    minimal_ms: float

    @property
    def ratio(self) -> float:
        return self.median_ms / self.minimal_ms

    @property
    def met(self) -> bool:
        return self.ratio <= WARM_TARGET


def warm_overhead(scenarios: list[Scenario], invocations: int) -> list[WarmOverhead]:
    rows = []
    with stub_endpoint() as (url, script):
        for scenario in scenarios:
            script.load(scenario.exchanges, scenario.stripe)
            compare = {
                "path": str(BARE),
                "handler": "same_calls",
                "calls": [
                    {"service": e.service, "operation": e.operation, "request": e.request}
                    for e in scenario.exchanges
                ],
            }
            spec = {
                **_handler_spec(scenario),
                "event": _fresh(scenario.event),
                "warm": invocations,
                "compare": compare,
            }
            result = _run(spec, url, script, f"warm invocations of {scenario.name}")
            rows.append(
                WarmOverhead(
                    scenario.name,
                    scenario.function,
                    len(scenario.exchanges),
                    invocations,
                    statistics.median(result["warm_ms"]),
                    statistics.median(result["compare_ms"]),
                )
            )
    return rows

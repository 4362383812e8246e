"""Cold starts and warm overhead: the functions' own time, against a baseline and a minimal handler."""

from __future__ import annotations

from bench.report.markdown import mark, section, table
from bench.timing import BASELINE, ColdStart, WarmOverhead


def cold_start_section(cold: list[ColdStart]) -> list[str]:
    return section(
        "Cold start",
        f"Fresh interpreters, each importing the handler module and serving one invocation with AWS and Stripe"
        f" answered by a local HTTP endpoint (recorded DynamoDB and EventBridge answers); {cold[0].runs} runs per function,"
        " functions taken in turn. Medians (this 2-core machine may have had other work running); the"
        " interpreter's own start is not included.",
        table(
            ["Function", "Invocation", "Median ms", "of which import", "x baseline", "Target", ""],
            [
                [
                    c.function,
                    c.scenario or "—",
                    f"{c.median_ms:.0f}",
                    f"{c.import_ms:.0f}",
                    f"{c.ratio:.2f}",
                    f"≤ {c.target:g}x" if c.function != BASELINE else "",
                    mark(c.met) if c.function != BASELINE else "",
                ]
                for c in cold
            ],
        ),
    )


def warm_overhead_section(warm: list[WarmOverhead]) -> list[str]:
    return section(
        "Warm overhead",
        f"One interpreter per operation, {warm[0].invocations if warm else 0} invocations each of the real"
        " handler and of a minimal hand-written handler making the same DynamoDB and EventBridge requests"
        " (recorded from the real one), alternately, against the same local endpoint. Medians per invocation."
        " An operation that makes no AWS request (packages; the publisher given a record with nothing to"
        " announce) is compared with a handler that does nothing: its ratio is the routing and parsing alone,"
        " against nothing.",
        table(
            ["Operation", "Function", "AWS requests", "Median ms", "Minimal ms", "Ratio", "≤ 2x"],
            [
                [
                    w.scenario,
                    w.function,
                    w.requests,
                    f"{w.median_ms:.2f}",
                    f"{w.minimal_ms:.2f}",
                    f"{w.ratio:.2f}",
                    mark(w.met),
                ]
                for w in warm
            ],
        ),
    )

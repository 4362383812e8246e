"""The functions as template.yaml declares them: memory, timeout, what invokes them, which stream records reach
them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from moto.events.models import EventPattern

from tests.support.template import template


@cache
def properties(function: str) -> dict[str, Any]:
    """functions/<function>'s properties, the template's Globals under them."""
    t = template()
    defaults = t.get("Globals", {}).get("Function", {})
    for resource in t["Resources"].values():
        props = resource.get("Properties", {})
        if (
            resource["Type"] == "AWS::Serverless::Function"
            and props["CodeUri"].rstrip("/") == f"functions/{function}"
        ):
            return {**defaults, **props}
    raise KeyError(function)


def memory_mb(function: str) -> int:
    return int(properties(function).get("MemorySize", 128))


def timeout_ms(function: str) -> int:
    return int(properties(function).get("Timeout", 3)) * 1000


def _events(function: str, kind: str) -> list[dict[str, Any]]:
    return [e["Properties"] for e in properties(function).get("Events", {}).values() if e["Type"] == kind]


def behind_http_api(function: str) -> bool:
    return bool(_events(function, "HttpApi"))


@cache
def stream_filters(function: str) -> list[EventPattern]:
    """The filter patterns of the function's DynamoDB stream trigger (none: it is not on the stream)."""
    return [
        EventPattern.load(f["Pattern"])
        for source in _events(function, "DynamoDB")
        for f in source.get("FilterCriteria", {}).get("Filters", [])
    ]


def receives(function: str, record: dict[str, Any]) -> bool:
    """Whether Lambda hands this stream record to the function (any filter matches, or there is none)."""
    filters = stream_filters(function)
    plain = json.loads(json.dumps(record, default=str))
    return not filters or any(f.matches_event(plain) for f in filters)

"""The functions as template.yaml declares them (read by the local stack's template reader): memory, timeout,
what invokes them, and the event source mappings of those on the table's stream."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from credits_local.streams import Delivery, StreamMapping
from credits_local.template import DEFAULT_TEMPLATE, Function, Template


@cache
def _functions() -> dict[str, Function]:
    """functions/<name> → its function, Globals applied."""
    return {f.code_dir.name: f for f in Template.from_file(DEFAULT_TEMPLATE).functions().values()}


def memory_mb(function: str) -> int:
    return _functions()[function].memory


def timeout_ms(function: str) -> int:
    return _functions()[function].timeout * 1000


def behind_http_api(function: str) -> bool:
    return bool(_functions()[function].events_of("HttpApi"))


def triggered_by_queue(function: str) -> bool:
    return bool(_functions()[function].events_of("SQS"))


def stream_delivery(function: str, stream_arn: str, invoke: Callable[[Any], Any]) -> Delivery:
    """The function's stream trigger (filters, batch size, partial failures) delivering to ``invoke``."""
    [properties] = _functions()[function].events_of("DynamoDB").values()
    settings = {k: v for k, v in properties.items() if k != "DestinationConfig"}  # no failures expected here
    mapping = StreamMapping.from_event(function, function, {**settings, "Stream": stream_arn}, {})
    return Delivery(mapping, invoke)


def receives(function: str, record: dict[str, Any]) -> bool:
    """Whether the function's trigger hands it this stream record."""
    return stream_delivery(function, "", lambda _: None).matches(record)

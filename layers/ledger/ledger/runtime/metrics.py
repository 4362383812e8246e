"""CloudWatch metrics in the embedded metric format: one JSON line per invocation, which CloudWatch Logs turns
into metrics (namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimension ``service``), as Powertools' metrics do.

    @log_metrics
    def handler(event, context):
        add_metric("CreditsExpired", 5)
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable

from ledger import settings

_pending: dict[str, float] = {}


def add_metric(name: str, value: float) -> None:
    """Count ``value`` under ``name`` (a Count) in this invocation's metrics."""
    _pending[name] = _pending.get(name, 0) + value


def flush() -> None:
    if not _pending:
        return
    service = settings.service_name()
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": settings.metrics_namespace(),
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in _pending],
                }
            ],
        },
        "service": service,
        **_pending,
    }
    _pending.clear()
    print(json.dumps(document, separators=(",", ":")), flush=True)


def log_metrics[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """Write the invocation's metrics when it ends, whether it returns or raises."""

    @functools.wraps(handler)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            flush()

    return invoke

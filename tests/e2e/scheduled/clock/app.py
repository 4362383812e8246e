"""A scheduled function that answers what it was told: the event's time and source, and its environment."""

import os
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "now": event.get("time"),
        "source": event.get("source"),
        "detail_type": event.get("detail-type"),
        "greeting": os.environ.get("GREETING"),
        "self": os.environ.get("SELF"),
        "function": context.function_name,
    }

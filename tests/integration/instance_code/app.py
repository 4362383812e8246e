"""Handlers for the function instance tests."""

import os
import time
from typing import Any


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "self": os.environ.get("SELF"),
        "function": context.function_name,
        "event": event,
    }


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(event["seconds"])
    return {"pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis()}


def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError(f"cannot take {event}")

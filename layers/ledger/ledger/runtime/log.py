"""Structured logs: one JSON object per line, with the keys Powertools' logger writes (level, location,
message, timestamp, service, cold_start, function_name, function_request_id, correlation_id, xray_trace_id),
so log queries written for one read the other.

    logger = Logger()
    logger.warning("AWS asked to slow down", code="ThrottlingException")   # keys as keyword arguments
    logger.info("swept", extra={"accounts": 3})                            # or as ``extra``

``inject_lambda_context`` adds the invocation's keys to every line logged while it runs.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from ledger import settings

_context: dict[str, Any] = {}
_cold = True


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
            + f",{int(record.msecs):03d}+0000",
            "service": settings.service_name(),
            **_context,
            **getattr(record, "keys", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
            line["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else ""
        trace = settings.trace_header()
        if trace.startswith("Root="):
            line["xray_trace_id"] = trace.split(";", 1)[0][5:]
        return json.dumps(line, default=str, separators=(",", ":"))


class _Stdout(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is when a line is logged (Lambda's, or a test's capture)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _logger() -> logging.Logger:
    named = logging.getLogger("ledger")
    if not named.handlers:
        handler = _Stdout()
        handler.setFormatter(_Json())
        named.addHandler(handler)
        named.setLevel(settings.log_level())
        named.propagate = False
    return named


def _correlation_id(event: Any) -> str | None:
    context = event.get("requestContext") if isinstance(event, dict) else None
    return context.get("requestId") if isinstance(context, dict) else None


class Logger:
    """The ledger's logger: every module's instance writes through the one ``ledger`` logger."""

    def __init__(self) -> None:
        self._log = _logger()

    def _emit(self, level: int, message: str, extra: dict[str, Any] | None, keys: dict[str, Any]) -> None:
        if self._log.isEnabledFor(level):
            exc_info = keys.pop("exc_info", None)
            self._log.log(
                level, message, exc_info=exc_info, stacklevel=3, extra={"keys": {**(extra or {}), **keys}}
            )

    def debug(self, message: str, extra: dict[str, Any] | None = None, **keys: Any) -> None:
        self._emit(logging.DEBUG, message, extra, keys)

    def info(self, message: str, extra: dict[str, Any] | None = None, **keys: Any) -> None:
        self._emit(logging.INFO, message, extra, keys)

    def warning(self, message: str, extra: dict[str, Any] | None = None, **keys: Any) -> None:
        self._emit(logging.WARNING, message, extra, keys)

    def error(self, message: str, extra: dict[str, Any] | None = None, **keys: Any) -> None:
        self._emit(logging.ERROR, message, extra, keys)

    def exception(self, message: str, extra: dict[str, Any] | None = None, **keys: Any) -> None:
        self._emit(logging.ERROR, message, extra, {**keys, "exc_info": True})

    def inject_lambda_context[**P, R](self, handler: Callable[P, R]) -> Callable[P, R]:
        """Every line logged during an invocation carries the function's and the request's keys."""

        @functools.wraps(handler)
        def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
            global _cold
            event, context = [*args, None, None][:2]
            _context.clear()
            _context.update(
                cold_start=_cold,
                function_name=getattr(context, "function_name", None),
                function_memory_size=getattr(context, "memory_limit_in_mb", None),
                function_arn=getattr(context, "invoked_function_arn", None),
                function_request_id=getattr(context, "aws_request_id", None),
            )
            correlation = _correlation_id(event)
            if correlation:
                _context["correlation_id"] = correlation
            _cold = False
            try:
                return handler(*args, **kwargs)
            finally:
                _context.clear()

        return invoke

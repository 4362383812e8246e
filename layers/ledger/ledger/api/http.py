"""One resolver per function, with every error mapped to HTTP here and nowhere else.

Errors are ``{"error": "<stable_code>", "message": "<sentence>", ...details}``: never a 500 for bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ledger.api.gate import MAX_BODY_BYTES, NOT_READ, Access, screen
from ledger.api.router import Event, InvalidParameters, Response, Router, rendered
from ledger.domain import errors
from ledger.payments.event_shape import UnreadableEvent
from ledger.runtime.log import Logger

logger = Logger()

# DynamoDB answers that mean "not now": the caller (or Stripe, for the webhook) should retry
RETRYABLE_AWS_CODES = {
    "InternalServerError",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ThrottlingException",
    "TransactionInProgressException",
}

STATUS: dict[type[errors.LedgerError], int] = {
    errors.InsufficientCredits: HTTPStatus.PAYMENT_REQUIRED,
    errors.IdempotencyConflict: HTTPStatus.CONFLICT,
    errors.HoldNotOpen: HTTPStatus.CONFLICT,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.CaptureExceedsHold: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.InvalidRequest: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.Busy: HTTPStatus.TOO_MANY_REQUESTS,
    errors.InvalidSignature: HTTPStatus.BAD_REQUEST,
    errors.PaymentProviderError: HTTPStatus.BAD_GATEWAY,
    errors.PaymentMethodRequired: HTTPStatus.CONFLICT,
    UnreadableEvent: HTTPStatus.BAD_REQUEST,
}


def error(status: int, code: str, message: str, **details: Any) -> Response[dict[str, Any]]:
    retry = status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE)
    headers = {"Retry-After": "1"} if retry else None
    return Response(
        status_code=int(status),
        content_type="application/json",
        body={"error": code, "message": message, **details},
        headers=headers,
    )


def _status_of(exc: errors.LedgerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return HTTPStatus.UNPROCESSABLE_ENTITY


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


def _invalid(problems: list[dict[str, Any]]) -> Response[dict[str, Any]]:
    if any(p.get("type") == "json_invalid" for p in problems):
        return error(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON")
    details = [{"field": _field(tuple(p.get("loc", ()))), "problem": p.get("msg", "")} for p in problems]
    first = details[0] if details else {"field": "", "problem": "invalid"}
    return error(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_request",
        f"{first['field'] or 'request'}: {first['problem']}",
        details=details,
    )


def _answer(exc: Exception) -> Response[dict[str, Any]]:
    """The error answer of an exception a route raised; anything else is raised on (a 500: a defect)."""
    if isinstance(exc, errors.LedgerError):
        return error(_status_of(exc), exc.code, exc.message, **exc.details)
    if isinstance(exc, InvalidParameters):
        return _invalid(exc.problems)
    if isinstance(exc, BotoCoreError):
        logger.exception("AWS could not be reached")
        return error(
            HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "the ledger is unavailable; retry"
        )
    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in RETRYABLE_AWS_CODES:
        logger.warning("AWS asked to slow down", code=exc.response["Error"]["Code"])
        return error(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "the ledger is busy; retry")
    if isinstance(exc, UnicodeDecodeError):
        return error(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not UTF-8 JSON")
    raise exc


class LedgerResolver(Router):
    """A function's routes, whose requests pass the gate (callers first, then the body) before any route sees
    them, and whose errors are all answered here."""

    def __init__(self, access: Access, max_body: int) -> None:
        super().__init__()
        self.access: Access = access
        self.max_body = max_body

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refused, body = screen(event, self.access, self.max_body)  # type: ignore[arg-type]  # a Lambda event is a dict
        if refused is not None:
            return refused
        self.current_event = Event(event, body, body_read=body is not NOT_READ)
        matched = self.match(event)
        if matched is None:
            return rendered(error(HTTPStatus.NOT_FOUND, "not_found", "no such route"))
        try:
            return rendered(self.call(*matched))
        except Exception as exc:  # answered, or raised on by _answer
            return rendered(_answer(exc))

    def get_openapi_json_schema(self, **info: Any) -> str:
        """The OpenAPI document of these routes (see ``Router.openapi``)."""
        return str(self.openapi().get_openapi_json_schema(**info))


def resolver(access: Access, max_body: int = MAX_BODY_BYTES) -> LedgerResolver:
    """The resolver of one function whose routes all take the same callers (see ``gate.Access``) and bodies
    of at most ``max_body`` bytes."""
    return LedgerResolver(access, max_body)


def created(body: Any) -> Response[Any]:
    """201 with ``body`` (a response dataclass) as JSON."""
    return Response(status_code=HTTPStatus.CREATED, content_type="application/json", body=body)


def lambda_handler(app: LedgerResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler

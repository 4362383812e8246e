"""One resolver per function, with every error mapped to HTTP here and nowhere else.

Errors are ``{"error": "<stable_code>", "message": "<sentence>", ...details}``: never a 500 for bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from ledger.api.gate import MAX_BODY_BYTES, Access, screen
from ledger.domain import errors
from ledger.payments.event_shape import UnreadableEvent

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


class LedgerResolver(APIGatewayHttpResolver):
    """A resolver whose requests pass the gate (callers first, then the body) before any route sees them."""

    def __init__(self, access: Access, max_body: int) -> None:
        super().__init__(enable_validation=True)
        self.access: Access = access
        self.max_body = max_body

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refused = screen(event, self.access, self.max_body)  # type: ignore[arg-type]  # a Lambda event is a dict
        if refused is not None:
            return refused
        return super().resolve(event, context)


def resolver(access: Access, max_body: int = MAX_BODY_BYTES) -> APIGatewayHttpResolver:
    """The resolver of one function whose routes all take the same callers (see ``gate.Access``) and bodies
    of at most ``max_body`` bytes."""
    app = LedgerResolver(access, max_body)

    @app.exception_handler(errors.LedgerError)
    def ledger_error(exc: errors.LedgerError) -> Response[dict[str, Any]]:
        return error(_status_of(exc), exc.code, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    def invalid(exc: RequestValidationError) -> Response[dict[str, Any]]:
        problems = exc.errors()
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

    @app.exception_handler(BotoCoreError)
    def unreachable(exc: BotoCoreError) -> Response[dict[str, Any]]:
        logger.exception("AWS could not be reached")
        return error(
            HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "the ledger is unavailable; retry"
        )

    @app.exception_handler(ClientError)
    def refused(exc: ClientError) -> Response[dict[str, Any]]:
        if exc.response.get("Error", {}).get("Code") not in RETRYABLE_AWS_CODES:
            raise exc
        logger.warning("AWS asked to slow down", code=exc.response["Error"]["Code"])
        return error(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "the ledger is busy; retry")

    @app.exception_handler(UnicodeDecodeError)
    def undecodable(_: UnicodeDecodeError) -> Response[dict[str, Any]]:
        return error(HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not UTF-8 JSON")

    @app.not_found
    def not_found(_: Exception) -> Response[dict[str, Any]]:
        return error(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    return app


def created(model: BaseModel) -> Response[Any]:
    return Response(
        status_code=HTTPStatus.CREATED, content_type="application/json", body=model.model_dump(by_alias=True)
    )


def lambda_handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler

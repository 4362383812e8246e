"""What every HTTP request passes before its route runs: who may call, then whether the body can be read.

The route's request validation (``router.py``, with ``ledger.shapes``) tells the caller which fields are wrong, so it
must only ever speak to a caller allowed to make the request: authorization comes first, here. Then the body:
a media type other than JSON is 415, a body too large 413, one that is not UTF-8 JSON, or JSON nested deeper
than any request of ours, 400, an integer too long for Python to read 422; all in the ledger's error shape,
before anything else parses it. Media types are case-insensitive (``application/JSON`` is JSON). The body
read here is handed to the route, which does not read it again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

from ledger.api import auth
from ledger.domain.errors import Forbidden
from ledger.shapes import is_text

Access = Literal["account", "service", "signed_in", "public"]
"""account: the JWT's owner or admin of the path's account; service: IAM-signed; signed_in: any JWT (the
authorizer checked it); public: no caller check (the Stripe webhook checks its own signature)."""

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
JSON = "application/json"
BODY_METHODS = ("POST", "PUT", "PATCH")
NOT_READ = object()  # the gate did not read the body (none, or the webhook's raw body): the route reads it


def error_result(status: int, code: str, message: str, **details: Any) -> dict[str, Any]:
    """An API Gateway (payload 2.0) result in the ledger's error shape."""
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": JSON},
        "body": json.dumps({"error": code, "message": message, **details}, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def authorize(event: dict[str, Any], access: Access) -> None:
    """Raise Forbidden unless the caller may call this function's routes for the path's account."""
    if access == "account":
        account_id = (event.get("pathParameters") or {}).get("account_id")
        auth.check_account_admin(event, account_id)
    elif access == "service":
        auth.check_service(event)
    elif access == "signed_in":
        auth.check_signed_in(event)


def body_bytes(event: Mapping[str, Any]) -> bytes | None:
    """The body as sent: base64 decoded when API Gateway encoded it (undecodable base64 or a string that is
    not Unicode comes out as bytes that are not UTF-8, so whoever reads it refuses it as such)."""
    body = event.get("body")
    if body is None or body == "":
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError, TypeError):
            return b"\xff"  # not decodable: reported as not UTF-8 JSON below
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    # API Gateway sends text; anything else (a direct invoke's object) is no body we can read
    return body if isinstance(body, bytes) else b"\xff"


def media_type(event: dict[str, Any]) -> str:
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "") or ""
    return value.split(";", 1)[0].strip().lower()


def _depth_and_text(value: Any) -> tuple[int, bool]:
    """How deep the JSON value nests, and whether every string in it is valid Unicode (no lone surrogate)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            for key, inner in item.items():
                if not is_text(key):
                    return deepest, False
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str) and not is_text(item):
            return deepest, False
    return deepest, True


def screen_body(
    event: dict[str, Any], parse: bool = True, max_bytes: int = MAX_BODY_BYTES
) -> tuple[dict[str, Any] | None, Any]:
    """An error result for a body the route cannot read, else None; and the
    body's JSON value when it was read here (``NOT_READ`` otherwise), so that the route does not parse it again.

    ``parse=False`` checks only the size: the webhook reads the raw body whatever its declared type, checks
    Stripe's signature on it first, and parks a signed body it cannot read."""
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    raw = body_bytes(event)
    if raw is None or method not in BODY_METHODS:
        return None, NOT_READ
    if len(raw) > max_bytes:
        return error_result(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"the request body is over {max_bytes} bytes",
        ), NOT_READ
    if not parse:
        return None, NOT_READ
    media = media_type(event)
    if media not in ("", JSON):
        return error_result(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"the request body must be {JSON}, not {media}",
        ), NOT_READ
    refusal, value = _read_json(raw)
    if refusal is not None:
        return refusal, NOT_READ
    return None, value


def _read_json(raw: bytes) -> tuple[dict[str, Any] | None, Any]:
    """The body's JSON value, or the error result that says why it cannot be read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return error_result(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not UTF-8 JSON"
        ), None
    try:
        value = json.loads(text)
    except RecursionError:
        return error_result(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body nests too deeply"
        ), None
    except json.JSONDecodeError:
        return error_result(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body is not valid JSON"
        ), None
    except ValueError:  # Python's limit on the digits of an integer
        return error_result(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "invalid_request",
            "request: a number has too many digits",
            details=[{"field": "", "problem": "a number has too many digits"}],
        ), None
    depth, is_text = _depth_and_text(value)
    if depth > MAX_DEPTH:
        return error_result(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body nests too deeply"
        ), None
    if not is_text:
        return error_result(
            HTTPStatus.BAD_REQUEST, "malformed_json", "the request body holds a string that is not Unicode"
        ), None
    return None, value


def screen(
    event: dict[str, Any], access: Access, max_bytes: int = MAX_BODY_BYTES
) -> tuple[dict[str, Any] | None, Any]:
    """An error result if the request must not reach its route (403 first, then the body's), else None; and
    the body's JSON value if the gate read it (see ``screen_body``)."""
    try:
        authorize(event, access)
    except Forbidden as refused:
        return error_result(HTTPStatus.FORBIDDEN, refused.code, refused.message), NOT_READ
    return screen_body(event, parse=access != "public", max_bytes=max_bytes)

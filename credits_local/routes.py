"""The HTTP API's routes from the template, and the API Gateway v2 (payload 2.0) events and responses."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from credits_local.template import Function

_PARAMETER = re.compile(r"\{([^}/]+?)(\+?)\}")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


@dataclass(frozen=True)
class Route:
    function: str  # logical id
    method: str  # GET, POST, ... or ANY
    path: str  # /accounts/{account_id}/balance, /{proxy+}, or $default
    authorizer: str  # NONE, AWS_IAM, or the name of a JWT authorizer
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Literal routes before parameters before greedy ones before $default (API Gateway's order)."""
        greedy = "+}" in self.path
        return (self.path == "$default", greedy, -len(_PARAMETER.sub("", self.path)))


def _pattern(path: str) -> re.Pattern[str]:
    if path == "$default":
        return re.compile(r"^/.*$")
    regex, last = "", 0
    for match in _PARAMETER.finditer(path):
        regex += re.escape(path[last : match.start()])
        name, greedy = match.group(1), match.group(2)
        regex += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        last = match.end()
    return re.compile("^" + regex + re.escape(path[last:]) + "$")


def routes_of(functions: dict[str, Function], default_authorizer: str = "NONE") -> list[Route]:
    routes = []
    for function in functions.values():
        for props in function.events_of("HttpApi").values():
            method = props.get("Method", "ANY").upper()
            path = props.get("Path", "$default")
            authorizer = props.get("Auth", {}).get("Authorizer", default_authorizer)
            routes.append(Route(function.logical_id, method, path, authorizer, _pattern(path)))
    return sorted(routes, key=lambda r: r.specificity)


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


class NoRoute(Exception):
    """No route for the path (404), or none for the method (405)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def match(routes: list[Route], method: str, path: str) -> Match:
    path_matched = False
    for route in routes:
        found = route.pattern.match(path)
        if not found:
            continue
        path_matched = True
        if route.method in (method, "ANY"):
            return Match(route, found.groupdict())  # the path was decoded once, before matching
    raise NoRoute(405 if path_matched else 404)


def _is_text(content_type: str, body: bytes) -> bool:
    if not body:
        return True
    if content_type and not any(t in content_type.lower() for t in _TEXT_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def api_event(
    found: Match,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    authorizer: dict[str, Any],
    api_id: str = "local",
) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload 2.0) hands to the route's function."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": found.route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "authorizer": authorizer,
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": merged.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": found.route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if found.path_parameters:
        event["pathParameters"] = found.path_parameters
    if body:
        if _is_text(merged.get("content-type", ""), body):
            event["body"] = body.decode("utf-8")
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps(payload).encode())


def http_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a function's result (payload 2.0)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return json_response(200, result)
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    headers += [("set-cookie", c) for c in result.get("cookies") or []]
    body = result.get("body") or ""
    if not isinstance(body, str):
        body = json.dumps(body)
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return HttpResponse(int(result["statusCode"]), headers, data)

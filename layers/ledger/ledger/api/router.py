"""The routes of one function: match the request, read and validate its parameters, call the route, answer in
API Gateway's (HTTP API, payload 2.0) shape.

Routes are declared as with Powertools' event handler (``@app.post("/accounts/<account_id>/usage")``, a body
parameter ``Annotated[DebitIn, Body()]``, query parameters ``Annotated[int, Query(ge=1)] = 50``), and the
validation errors are pydantic's, with the same locations (``("body", "amount")``, ``("query", "limit")``),
written by ``ledger.shapes`` from the bodies' dataclasses. It is our own because a function's cold start is
mostly its imports: Powertools' event handler and its OpenAPI validation, and pydantic itself, cost more than
the ledger. The OpenAPI document is still Powertools': ``openapi()`` declares the same routes on its resolver
with the pydantic models of the same dataclasses (``scripts/openapi.py``), so the document and the routes
cannot drift apart.

A route's parameters are read from its signature the first time it is called (each function serves few
routes; the others cost nothing).
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from ledger.api.gate import body_bytes
from ledger.shapes import Invalid, Rule, jsonable, validate

JSON = "application/json"
# what a path parameter may hold: RFC 3986's unreserved and sub-delimiter characters, the unsafe ones API
# Gateway passes through, letters and digits (the same set as Powertools' resolver)
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PLACEHOLDER = re.compile(r"<(\w+)>")


@dataclass
class Response[T]:
    """A route's answer when a model and 200 are not enough: its status, media type, body and headers."""

    status_code: int
    content_type: str | None = None
    body: T | None = None
    headers: dict[str, str] | None = None


class Body:
    """Marks a parameter as the request body (``Annotated[Model, Body()]``); ``doc`` goes to the OpenAPI
    document."""

    def __init__(self, **doc: Any) -> None:
        self.doc = doc


class Query:
    """Marks a query parameter: ``alias`` (its name in the query string) and ``description`` document it, the
    other arguments are pydantic ``Field`` constraints (``ge``, ``le``, ``max_length``...)."""

    def __init__(self, alias: str | None = None, description: str | None = None, **constraints: Any) -> None:
        self.alias, self.description, self.constraints = alias, description, constraints


class InvalidParameters(Exception):
    """The request's parameters or body failed validation: pydantic's errors, located in the request."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.problems = errors


class Event:
    """The request as a route sees it (``app.current_event``)."""

    def __init__(self, raw_event: Mapping[str, Any], json_body: Any = None, body_read: bool = False) -> None:
        self.raw_event: dict[str, Any] = dict(raw_event)
        self.headers: dict[str, str] = {k.lower(): v for k, v in (raw_event.get("headers") or {}).items()}
        self._json_body, self._body_read = json_body, body_read

    def json_body(self) -> Any:
        """The body's JSON value (None for no body): as the gate read it, or read here."""
        if self._body_read:
            return self._json_body
        text = self.decoded_body
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError as bad:
            raise InvalidParameters(
                [{"type": "json_invalid", "loc": ("body", bad.pos), "msg": "JSON decode error"}]
            ) from bad

    @property
    def decoded_body(self) -> str | None:
        """The body as text; UnicodeDecodeError (answered 400) for one that is not UTF-8."""
        raw = body_bytes(self.raw_event)
        return None if raw is None else raw.decode("utf-8")


@dataclass
class _Param:
    name: str
    where: str  # path, query or body
    key: str  # its name in the path, the query string or the error's location
    hint: Any  # what validates its value (see ledger.shapes)
    required: bool
    default: Any


@dataclass
class Route:
    method: str
    path: str
    func: Callable[..., Any]
    doc: dict[str, Any]
    rule: re.Pattern[str] = field(init=False)
    _params: list[_Param] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        named = _PLACEHOLDER.sub(lambda found: f"(?P<{found.group(1)}>{_SEGMENT})", self.path)
        self.rule = re.compile(f"^{named}$")

    def params(self) -> list[_Param]:
        if self._params is None:
            self._params = list(_read_signature(self.func, set(_PLACEHOLDER.findall(self.path))))
        return self._params


def _read_signature(func: Callable[..., Any], in_path: set[str]) -> typing.Iterator[_Param]:
    hints = typing.get_type_hints(func, include_extras=True)
    for name, parameter in inspect.signature(func).parameters.items():
        required = parameter.default is inspect.Parameter.empty
        default = None if required else parameter.default
        if name in in_path:
            yield _Param(name, "path", name, None, True, None)
            continue
        hint = hints.get(name, str)
        base: Any = hint
        markers: tuple[Any, ...] = ()
        if typing.get_origin(hint) is typing.Annotated:
            base, *extra = typing.get_args(hint)
            markers = tuple(extra)
        body = next((m for m in markers if isinstance(m, Body)), None)
        if body is not None:
            yield _Param(name, "body", name, base, required, default)
            continue
        query = next((m for m in markers if isinstance(m, Query)), None) or Query()
        constrained = typing.Annotated[base, Rule(**query.constraints)] if query.constraints else base
        yield _Param(name, "query", query.alias or name, constrained, required, default)


def _validate(param: _Param, value: Any, problems: list[dict[str, Any]]) -> Any:
    located = ("body",) if param.where == "body" else ("query", param.key)
    try:
        return validate(param.hint, value)
    except Invalid as invalid:
        for problem in invalid.problems:
            problems.append({**problem, "loc": (*located, *problem["loc"])})
        return None


def _missing(param: _Param) -> dict[str, Any]:
    located = ("body",) if param.where == "body" else ("query", param.key)
    return {"type": "missing", "loc": located, "msg": "Field required", "input": None}


class Router:
    """The routes of one function, and the request being served (``current_event``)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.current_event: Event = Event({})

    def route(self, path: str, method: str, **doc: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(Route(method.upper(), path, func, doc))
            return func

        return register

    def get(self, path: str, **doc: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route(path, "GET", **doc)

    def post(self, path: str, **doc: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route(path, "POST", **doc)

    def put(self, path: str, **doc: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route(path, "PUT", **doc)

    def match(self, event: Mapping[str, Any]) -> tuple[Route, dict[str, str]] | None:
        context = event.get("requestContext") or {}
        method = str((context.get("http") or {}).get("method", "")).upper()
        path = str(event.get("rawPath") or "/")
        stage = context.get("stage")
        if stage and stage != "$default" and path.startswith(f"/{stage}"):
            path = path[len(stage) + 1 :]
        for route in self.routes:
            if route.method == method and (found := route.rule.match(path)):
                return route, found.groupdict()
        return None

    def call(self, route: Route, path_values: dict[str, str]) -> Response[Any]:
        """Validate the request against the route's parameters, call it, and shape what it returns."""
        event = self.current_event
        query = event.raw_event.get("queryStringParameters") or {}
        values: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        for param in route.params():
            if param.where == "path":
                values[param.name] = path_values[param.key]
                continue
            if param.where == "body":
                value = event.json_body()
            else:
                value = query.get(param.key)
            if value is None:
                if param.required:
                    problems.append(_missing(param))
                values[param.name] = param.default
            else:
                values[param.name] = _validate(param, value, problems)
        if problems:
            raise InvalidParameters(problems)
        answer = route.func(**values)
        if isinstance(answer, Response):
            return answer
        return Response(HTTPStatus.OK, JSON, answer)

    def openapi(self) -> Any:
        """A Powertools resolver declaring the same routes: what ``scripts/openapi.py`` documents."""
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
        from aws_lambda_powertools.event_handler.openapi import params

        from ledger.api.documented import documented_doc

        resolver = APIGatewayHttpResolver(enable_validation=True)
        for route in self.routes:
            resolver.route(route.path, route.method, **documented_doc(route.doc))(
                _as_powertools(route.func, params)
            )
        return resolver


def _as_powertools(func: Callable[..., Any], params: Any) -> Callable[..., Any]:
    """The route with its markers swapped for Powertools' own ``Body()`` and ``Query()``, and its dataclasses for
    their pydantic models."""
    from ledger.api.documented import documented

    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    parameters = []
    for name, parameter in signature.parameters.items():
        hint = hints.get(name, parameter.annotation)
        if typing.get_origin(hint) is typing.Annotated:
            base, *markers = typing.get_args(hint)
            swapped = [
                params.Body(**m.doc)
                if isinstance(m, Body)
                else params.Query(alias=m.alias, description=m.description, **m.constraints)
                if isinstance(m, Query)
                else m
                for m in markers
            ]
            hint = typing.Annotated[(base, *swapped)]
        parameters.append(parameter.replace(annotation=documented(hint)))
    returns = documented(hints.get("return", signature.return_annotation))
    if typing.get_origin(returns) is Response:
        from aws_lambda_powertools.event_handler import Response as PowertoolsResponse

        returns = PowertoolsResponse[typing.get_args(returns)[0]]  # type: ignore[misc]

    def route(**kwargs: Any) -> Any:
        return func(**kwargs)

    route.__name__ = func.__name__
    route.__doc__ = func.__doc__
    route.__signature__ = signature.replace(parameters=parameters, return_annotation=returns)  # type: ignore[attr-defined]
    return route


def rendered(response: Response[Any]) -> dict[str, Any]:
    """The API Gateway result: a JSON body written as pydantic would (datetimes in ISO 8601, fields by alias)."""
    body = response.body
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(jsonable(body), separators=(",", ":"))
    headers = dict(response.headers or {})
    if response.content_type:
        headers["Content-Type"] = response.content_type
    encoded = isinstance(body, bytes)
    return {
        "statusCode": int(response.status_code),
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body or "",
        "isBase64Encoded": encoded,
        "headers": headers,
        "cookies": [],
    }

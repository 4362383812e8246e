"""CORS as an HTTP API with a ``CorsConfiguration`` answers it, in front of the gateway.

API Gateway (HTTP APIs) answers a preflight itself, before any route, authorizer or function: an ``OPTIONS``
request with an ``Origin`` and an ``Access-Control-Request-Method`` gets 204 with the allowed origin, methods,
headers and max age when the origin is allowed, and 204 without them when it is not. Every other answer (the
functions', and the authorizer's 401/403) gets ``Access-Control-Allow-Origin`` (and ``-Expose-Headers``,
``-Allow-Credentials``) when its request's origin is allowed. With no ``CorsConfiguration`` nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from credits_local.routes import HttpResponse
from credits_local.template import Resolver, Template


class Handles(Protocol):
    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse: ...


def _names(value: Any) -> list[str]:
    """A list as the template gives it: a list, or a comma-separated string (a CommaDelimitedList parameter
    resolves to one locally; AWS::NoValue to "")."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass(frozen=True)
class CorsConfiguration:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> CorsConfiguration:
        max_age = properties.get("MaxAge")
        return cls(
            allow_origins=tuple(_names(properties.get("AllowOrigins"))),
            allow_methods=tuple(name.upper() for name in _names(properties.get("AllowMethods"))),
            allow_headers=tuple(name.lower() for name in _names(properties.get("AllowHeaders"))),
            expose_headers=tuple(_names(properties.get("ExposeHeaders"))),
            max_age=int(max_age) if max_age not in (None, "") else None,
            allow_credentials=str(properties.get("AllowCredentials", "false")).lower() == "true",
        )

    def allows(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def origin_header(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin

    def preflight(self, origin: str, method: str, requested_headers: str) -> HttpResponse:
        if not self.allows(origin):
            return HttpResponse(204, [], b"")
        methods = self.allow_methods or ("*",)
        if "*" not in methods and method.upper() not in methods:
            return HttpResponse(204, [], b"")
        asked = [h.strip().lower() for h in requested_headers.split(",") if h.strip()]
        if "*" in self.allow_headers:
            headers_allowed = asked
        else:
            headers_allowed = [h for h in asked if h in self.allow_headers]
        answer = [
            ("access-control-allow-origin", self.origin_header(origin)),
            ("access-control-allow-methods", ",".join(methods)),
        ]
        if headers_allowed:
            answer.append(("access-control-allow-headers", ",".join(headers_allowed)))
        if self.max_age is not None:
            answer.append(("access-control-max-age", str(self.max_age)))
        if self.allow_credentials:
            answer.append(("access-control-allow-credentials", "true"))
        answer.append(("vary", "origin"))
        return HttpResponse(204, answer, b"")

    def decorate(self, origin: str, response: HttpResponse) -> HttpResponse:
        if not self.allows(origin):
            return response
        extra = [("access-control-allow-origin", self.origin_header(origin)), ("vary", "origin")]
        if self.expose_headers:
            extra.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            extra.append(("access-control-allow-credentials", "true"))
        return HttpResponse(response.status, [*response.headers, *extra], response.body)


def cors_of(template: Template, resolver: Resolver) -> CorsConfiguration | None:
    """The first HttpApi's ``CorsConfiguration``, resolved (None when it has none)."""
    for api in template.resources("AWS::Serverless::HttpApi").values():
        properties = api.get("Properties", {}).get("CorsConfiguration")
        if properties is None:
            continue
        resolved = resolver.resolve(properties)
        if resolved is True:  # CorsConfiguration: true allows every origin
            return CorsConfiguration(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
        if isinstance(resolved, dict):
            return CorsConfiguration.from_properties(resolved)
    return None


class WithCors:
    """The gateway behind the API's CORS configuration."""

    def __init__(self, inner: Handles, configuration: CorsConfiguration | None) -> None:
        self.inner, self.configuration = inner, configuration

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        cors = self.configuration
        lowered = {name.lower(): value for name, value in headers}
        origin = lowered.get("origin")
        if cors is None or origin is None or target.startswith("/_local/"):
            return self.inner.handle(method, target, headers, body, client_ip)
        if method == "OPTIONS" and "access-control-request-method" in lowered:
            return cors.preflight(
                origin,
                lowered["access-control-request-method"],
                lowered.get("access-control-request-headers", ""),
            )
        return cors.decorate(origin, self.inner.handle(method, target, headers, body, client_ip))

"""The HTTP gateway: every HttpApi route of the template, its authorizer, and the stack's /_local endpoints.

Requests are served on threads, so handlers of concurrent requests run at the same time (each in its own
function instance, as Lambda would). /_local/ is the local stack's own:

    GET  /_local/events                 events published to the bus so far
    POST /_local/invoke/<FunctionId>    run a function once with the posted event; answers its result
    POST /_local/trigger/<FunctionId>   fire a scheduled function ({"time": "...Z"} optional)
"""

from __future__ import annotations

import errno
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.authorizers import JwtSettings, Refused, authorize_iam, authorize_jwt
from credits_local.cors import Handles
from credits_local.functions import FunctionError, FunctionPool
from credits_local.routes import HttpResponse, NoRoute, Route, api_event, http_response, json_response, match
from credits_local.state import ServiceCredential

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


class PortInUse(RuntimeError):
    """The gateway's port is taken."""


@dataclass
class Authorizers:
    jwt: dict[str, JwtSettings]  # authorizer name → issuer and audience
    public_key: rsa.RSAPublicKey
    service: ServiceCredential


@dataclass
class LocalEndpoints:
    """What /_local/ serves, provided by the stack."""

    events: Callable[[], list[dict[str, Any]]]
    invoke: Callable[[str, Any], Any]
    trigger: Callable[[str, str | None], Any]


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        pools: dict[str, FunctionPool],
        authorizers: Authorizers,
        local: LocalEndpoints,
    ) -> None:
        self.routes, self.pools, self.authorizers, self.local = routes, pools, authorizers, local

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        url = urlsplit(target)
        if url.path.startswith("/_local/"):
            return self._local(method, url.path, body)
        # HTTP API decodes the path once, then matches routes and hands the function the decoded path and
        # parameters (rawPath included): /accounts/a%3Ab is account a:b. The signature covers the path as sent.
        path = unquote(url.path)
        try:
            found = match(self.routes, method, path)
        except NoRoute as missing:
            return json_response(
                missing.status, {"message": "Not Found" if missing.status == 404 else "Method Not Allowed"}
            )
        lowered = {name.lower(): value for name, value in headers}
        try:
            authorizer = self._authorize(found.route, method, url.path, url.query, lowered, body)
        except Refused as refused:
            print(f"{method} {url.path}: refused ({refused.reason})", file=sys.stderr, flush=True)
            return json_response(refused.status, {"message": refused.message})
        event = api_event(found, method, path, url.query, headers, body, client_ip, authorizer)
        try:
            return http_response(self.pools[found.route.function].invoke(event))
        except FunctionError as failed:
            print(f"{found.route.function} failed: {failed}", file=sys.stderr, flush=True)
            return json_response(500, {"message": "Internal Server Error"})

    def _authorize(
        self, route: Route, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        if route.authorizer == "NONE":
            return {}
        if route.authorizer == "AWS_IAM":
            return authorize_iam(method, path, query, headers, body, self.authorizers.service)
        settings = self.authorizers.jwt.get(route.authorizer)
        if settings is None:
            raise Refused(500, "Internal Server Error", f"no authorizer {route.authorizer} in the template")
        return authorize_jwt(headers, self.authorizers.public_key, settings)

    def _local(self, method: str, path: str, body: bytes) -> HttpResponse:
        parts = path.strip("/").split("/")
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return json_response(400, {"message": "the body is not JSON"})
        try:
            if parts == ["_local", "events"] and method == "GET":
                return json_response(200, {"events": self.local.events()})
            if len(parts) == 3 and parts[1] == "invoke" and method == "POST":
                return json_response(200, self.local.invoke(parts[2], payload))
            if len(parts) == 3 and parts[1] == "trigger" and method == "POST":
                at = (payload or {}).get("time") if isinstance(payload, dict) else None
                return json_response(200, self.local.trigger(parts[2], at))
        except KeyError as unknown:
            return json_response(404, {"message": f"no function {unknown.args[0]} here"})
        except ValueError as invalid:
            return json_response(400, {"message": str(invalid)})
        except FunctionError as failed:
            return json_response(200, {"error": failed.payload(), "trace": failed.trace})
        return json_response(404, {"message": "Not Found"})


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        began = time.monotonic()
        length = self.headers.get("content-length")
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self._send(json_response(411, {"message": "Length Required"}))
            return
        size = int(length) if length and length.isdigit() else 0
        if size > MAX_BODY:
            self._send(json_response(413, {"message": "Request Entity Too Large"}))
            return
        body = self.rfile.read(size) if size else b""
        response = self.server.gateway.handle(
            self.command, self.path, list(self.headers.items()), body, self.client_address[0]
        )
        self._send(response)
        elapsed = (time.monotonic() - began) * 1000
        print(f"{self.command} {self.path} {response.status} {elapsed:.0f} ms", file=sys.stderr, flush=True)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) is routed too: 405 JSON on a known path, as API Gateway."""
        if name.startswith("do_") and name[3:].isupper():
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of the HTTP layer itself (a URL too long: 414, a malformed request line: 400) in API
        Gateway's JSON shape, not http.server's HTML page."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        body = json.dumps({"message": phrase}).encode()
        self.send_response(code, phrase)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Each request is logged once, by _serve."""


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once (the default, 5, resets them)

    def __init__(self, host: str, port: int) -> None:
        try:
            super().__init__((host, port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use (another local stack?): stop it, or choose "
                    "another port with --port"
                ) from None
            raise
        self.gateway: Handles  # the Gateway, behind CORS and the console's pages (stack.py)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self, gateway: Handles) -> threading.Thread:
        self.gateway = gateway
        thread = threading.Thread(target=self.serve_forever, name="gateway", daemon=True)
        thread.start()
        return thread

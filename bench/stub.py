"""A local HTTP endpoint standing in for AWS and Stripe while the timing benchmarks run.

DynamoDB and EventBridge requests (``X-Amz-Target``) get the recorded answers of one scenario, in order, over and
over: the code under test makes the same requests each time, and a request out of order is answered with an error
and counted, so a run that diverged is never reported. Stripe requests (``/v1/...``) get the scenario's recorded
Stripe answers the same way, or, where none was recorded for that path, the fake Stripe the tests use.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bench.costs import Exchange, StripeAnswer
from devkit.fake_stripe import ROUTES as STRIPE_ROUTES


class Script:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.position = 0
        self.mismatches: list[str] = []
        self.stripe: dict[str, list[StripeAnswer]] = {}  # path → its recorded answers, in order
        self.stripe_served: dict[str, int] = {}

    def load(self, exchanges: list[Exchange], stripe: list[StripeAnswer] | None = None) -> None:
        with self.lock:
            self.exchanges, self.position, self.mismatches = list(exchanges), 0, []
            self.stripe, self.stripe_served = {}, {}
            for answer in stripe or []:
                self.stripe.setdefault(answer.path, []).append(answer)

    def stripe_answer(self, method: str, path: str) -> tuple[int, bytes] | None:
        """The next recorded answer of Stripe to ``path`` (None when none was recorded)."""
        with self.lock:
            recorded = self.stripe.get(path)
            if not recorded:
                return None
            served = self.stripe_served.get(path, 0)
            self.stripe_served[path] = served + 1
            expected = recorded[served % len(recorded)]
            if expected.method != method:
                self.mismatches.append(f"{method} {path} where {expected.method} was recorded")
                return 500, b'{"error": {"type": "api_error"}}'
            return expected.status, base64.b64decode(expected.body)

    def answer(self, operation: str) -> tuple[int, bytes]:
        with self.lock:
            if not self.exchanges:
                self.mismatches.append(f"{operation} (no DynamoDB request expected)")
                return 500, b'{"__type": "bench#Unexpected"}'
            expected = self.exchanges[self.position % len(self.exchanges)]
            self.position += 1
            if expected.operation != operation:
                self.mismatches.append(f"{operation} where {expected.operation} was recorded")
                return 500, b'{"__type": "bench#Unexpected"}'
            return expected.status, base64.b64decode(expected.body)


@contextmanager
def stub_endpoint() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
        disable_nagle_algorithm = True  # headers and body leave at once (no delayed-ACK stalls)

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            target = self.headers.get("x-amz-target")
            if target:
                status, answer = script.answer(target.split(".")[-1])
                protocol = "1.1" if target.startswith("AWSEvents.") else "1.0"
                self._reply(status, answer, f"application/x-amz-json-{protocol}")
                return
            replayed = script.stripe_answer(self.command, self.path.split("?")[0])
            if replayed is not None:
                self._reply(*replayed, "application/json")
                return
            make = STRIPE_ROUTES.get(self.path)
            params: dict[str, Any] = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if make is None:
                self._reply(404, b'{"error": {"type": "invalid_request_error"}}', "application/json")
            else:
                self._reply(200, json.dumps(make(params)).encode(), "application/json")

        do_GET = do_DELETE = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()

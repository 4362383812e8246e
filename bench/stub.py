"""A local HTTP endpoint standing in for AWS and Stripe while the timing benchmarks run.

DynamoDB and EventBridge requests (``X-Amz-Target``) get the recorded answers of one scenario, in order, over and
over: the code under test makes the same requests each time, and a request out of order is answered with an error
and counted, so a run that diverged is never reported. Stripe requests (``/v1/...``) are answered by the fake
Stripe the tests use.
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

from bench.costs import Exchange
from tests.support.fake_stripe import ROUTES as STRIPE_ROUTES


class Script:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.position = 0
        self.mismatches: list[str] = []

    def load(self, exchanges: list[Exchange]) -> None:
        with self.lock:
            self.exchanges, self.position, self.mismatches = list(exchanges), 0, []

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
            make = STRIPE_ROUTES.get(self.path)
            params: dict[str, Any] = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if make is None:
                self._reply(404, b'{"error": {"type": "invalid_request_error"}}', "application/json")
            else:
                self._reply(200, json.dumps(make(params)).encode(), "application/json")

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

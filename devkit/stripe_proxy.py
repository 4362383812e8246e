"""A recording proxy in front of localstripe: every request our code sends to Stripe, with its headers and
form parameters, passed through unchanged, and the answer. localstripe ignores idempotency keys; this shows the
ones sent. Paths localstripe lacks can be sent elsewhere (to the fake of Checkout and the billing portal)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from devkit.fake_stripe import Recorded


@dataclass
class StripeProxy:
    url: str
    requests: list[Recorded] = field(default_factory=list)

    def to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]


@contextmanager
def proxy(upstream: str, elsewhere: dict[str, str] | None = None) -> Iterator[StripeProxy]:
    """``elsewhere``: path → the base URL that answers it instead of ``upstream``."""
    recorded: list[Recorded] = []

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            params = dict(parse_qsl(body.decode())) if body else {}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            base = (elsewhere or {}).get(path, upstream)
            request = urllib.request.Request(base + self.path, data=body or None, method=self.command)
            for name, value in headers.items():
                request.add_header(name, value)
            try:
                with urllib.request.urlopen(request) as response:
                    status, data = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, data = error.code, error.read()
            recorded.append(Recorded(self.command, path, dict(self.headers.items()), params, status, data))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StripeProxy(f"http://127.0.0.1:{server.server_address[1]}", recorded)
    finally:
        server.shutdown()
        server.server_close()

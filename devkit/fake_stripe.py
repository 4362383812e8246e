"""A stand-in for the parts of Stripe's API localstripe lacks (Checkout Sessions, the billing portal, the
list of disputes),
faked at the HTTP level: our code and the real stripe library run unchanged; each request is recorded with
its headers and its form-encoded parameters, and answered with an object of Stripe's real shape."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    status: int = 0  # the answer, where the recorder sees it
    answer: bytes = b""


@dataclass
class FakeStripe:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)  # what GET /v1/disputes lists

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


def _customer(p: dict[str, str]) -> dict[str, Any]:
    metadata = {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")}
    return {
        "id": "cus_" + secrets.token_hex(7),
        "object": "customer",
        "metadata": metadata,
        "livemode": False,
    }


def _checkout_session(p: dict[str, str]) -> dict[str, Any]:
    session_id = "cs_test_" + secrets.token_hex(16)
    metadata = {k[9:-1]: v for k, v in p.items() if k.startswith("metadata[")}
    amount = int(p["line_items[0][price_data][unit_amount]"]) * int(p.get("line_items[0][quantity]", "1"))
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "client_reference_id": p.get("client_reference_id"),
        "client_secret": f"{session_id}_secret_{secrets.token_hex(8)}",
        "currency": p["line_items[0][price_data][currency]"],
        "customer": p.get("customer"),
        "livemode": False,
        "metadata": metadata,
        "mode": p["mode"],
        "payment_intent": None,
        "payment_status": "unpaid",
        "return_url": p.get("return_url"),
        "status": "open",
        "ui_mode": p.get("ui_mode", "hosted"),
        "url": None,
    }


def _portal_session(p: dict[str, str]) -> dict[str, Any]:
    return {
        "id": "bps_" + secrets.token_hex(12),
        "object": "billing_portal.session",
        "customer": p["customer"],
        "livemode": False,
        "return_url": p.get("return_url"),
        "url": "https://billing.stripe.com/p/session/test_" + secrets.token_hex(12),
    }


ROUTES = {
    "/v1/customers": _customer,
    "/v1/checkout/sessions": _checkout_session,
    "/v1/billing_portal/sessions": _portal_session,
}


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            params = dict(parse_qsl(body, keep_blank_values=True))
            fake.requests.append(
                Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, params)
            )
            make = ROUTES.get(self.path)
            status, answer = (
                (200, make(params)) if make else (404, {"error": {"type": "invalid_request_error"}})
            )
            self._answer(status, answer)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            params = dict(parse_qsl(query, keep_blank_values=True))
            fake.requests.append(
                Recorded("GET", path, {k.lower(): v for k, v in self.headers.items()}, params)
            )
            if path == "/v1/disputes":
                wanted = params.get("payment_intent")
                data = [d for d in fake.disputes if wanted in (None, d.get("payment_intent"))]
                status, answer = 200, {"object": "list", "data": data, "has_more": False, "url": path}
            else:
                status, answer = 404, {"error": {"type": "invalid_request_error"}}
            self._answer(status, answer)

        def _answer(self, status: int, answer: dict[str, Any]) -> None:
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()

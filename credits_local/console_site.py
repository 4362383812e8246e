"""The demo credits console at ``/console`` on the gateway: every component of ``console/`` on one page.

Local only, never deployed. Besides the page and the bundle it serves what a SaaS's own console would have
on its side:

    GET  /console                  the demo page (console/demo/index.html), pointed at this stack's localstripe
    GET  /console/<file>           console/<file>: the bundle and the demo's own files
    POST /console/sign-in          {"account", "role"} → {"token"}: a bearer token for that account and role,
                                   minted as ``credits-local token`` mints it (the SaaS's sign-in, here)
    POST /console/demo/grant       {"account", "amount"}: grants credits, as the SaaS's back end would
    POST /console/demo/usage       {"account", "amount", "operation"}: records usage, as the back end would

The two demo routes call the service routes through the gateway, SigV4-signed with the local service
credential, so they take the production path (authorizer included).
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.authorizers import JwtSettings, mint_token, sign_request
from credits_local.cors import Handles
from credits_local.routes import HttpResponse, json_response
from credits_local.state import ServiceCredential
from credits_local.template import ROOT

CONSOLE_DIR = ROOT / "console"
PREFIX = "/console"
ROLES = ("owner", "admin", "member")
PUBLISHABLE_KEY = "pk_test_local"  # localstripe accepts any pk_ key
_SERVED = {".js", ".css", ".html", ".png", ".svg", ".json", ".map"}


@dataclass
class ConsoleSettings:
    gateway_url: str
    stripe_url: str
    signing_key: rsa.RSAPrivateKey
    jwt: JwtSettings
    account_claim: str
    role_claim: str
    service: ServiceCredential

    @property
    def stripe_js(self) -> str:
        """Where localstripe serves its stand-in for Stripe.js (https://js.stripe.com/v3/ in production)."""
        return f"{self.stripe_url}/js.stripe.com/v3/"


class WithConsole:
    """The gateway, with the demo console's pages in front of it."""

    def __init__(self, inner: Handles, settings: ConsoleSettings, directory: Path = CONSOLE_DIR) -> None:
        self.inner, self.settings, self.directory = inner, settings, directory.resolve()

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        path = urlsplit(target).path
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.inner.handle(method, target, headers, body, client_ip)
        rest = path[len(PREFIX) :].strip("/")
        if method == "POST":
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                return json_response(400, {"message": "the body is not JSON"})
            if not isinstance(payload, dict):
                return json_response(400, {"message": "the body is not a JSON object"})
            if rest == "sign-in":
                return self._sign_in(payload)
            if rest in ("demo/grant", "demo/usage"):
                return self._demo(rest.split("/")[1], payload, client_ip)
            return json_response(404, {"message": "Not Found"})
        if method not in ("GET", "HEAD"):
            return json_response(405, {"message": "Method Not Allowed"})
        if rest in ("", "index.html"):
            return self._page()
        return self._file(rest)

    def _page(self) -> HttpResponse:
        text = (self.directory / "demo" / "index.html").read_text()
        text = text.replace("{{STRIPE_JS}}", self.settings.stripe_js)
        text = text.replace("{{STRIPE_KEY}}", PUBLISHABLE_KEY)
        return HttpResponse(
            200, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")], text.encode()
        )

    def _file(self, relative: str) -> HttpResponse:
        candidate = (self.directory / relative).resolve()
        inside = self.directory in candidate.parents
        if (
            not inside
            or candidate.suffix not in _SERVED
            or not candidate.is_file()
            or "node_modules" in relative
        ):
            return json_response(404, {"message": "Not Found"})
        kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript") or kind.endswith("json"):
            kind += "; charset=utf-8"
        return HttpResponse(
            200, [("content-type", kind), ("cache-control", "no-store")], candidate.read_bytes()
        )

    def _sign_in(self, payload: dict[str, Any]) -> HttpResponse:
        account, role = str(payload.get("account") or "").strip(), str(payload.get("role") or "owner")
        if not account or role not in ROLES:
            return json_response(
                400, {"message": f"account is required and role is one of {', '.join(ROLES)}"}
            )
        settings = self.settings
        claims = {"sub": f"user-of-{account}", settings.account_claim: account, settings.role_claim: role}
        token = mint_token(settings.signing_key, settings.jwt, claims, 3600)
        return json_response(200, {"token": token, "account": account, "role": role, "expires_in": 3600})

    def _demo(self, action: str, payload: dict[str, Any], client_ip: str) -> HttpResponse:
        account = str(payload.get("account") or "").strip()
        if not account:
            return json_response(400, {"message": "account is required"})
        body: dict[str, Any] = {"amount": payload.get("amount"), "idempotency_key": f"demo-{uuid.uuid4()}"}
        if action == "grant":
            body["source"] = "promotional"
            path = f"/accounts/{account}/grants"
        else:
            body["operation"] = payload.get("operation") or "render"
            path = f"/accounts/{account}/usage"
        data = json.dumps(body).encode()
        url = self.settings.gateway_url + path
        host = urlsplit(url).netloc
        unsigned = {"content-type": "application/json", "host": host}
        signed = {"host": host, **sign_request(self.settings.service, "POST", url, data, unsigned)}
        return self.inner.handle("POST", path, list(signed.items()), data, client_ip)

"""The local gateway's CORS (the template's CorsConfiguration, from ConsoleOrigins) and the demo console's pages."""

from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.authorizers import JwtSettings
from credits_local.console_site import ConsoleSettings, WithConsole
from credits_local.cors import CorsConfiguration, WithCors, cors_of
from credits_local.routes import HttpResponse, json_response
from credits_local.state import ServiceCredential
from credits_local.template import DEFAULT_TEMPLATE, Resolver, Template

ORIGIN = "https://console.example.com"


def configuration(origins: str) -> CorsConfiguration | None:
    template = Template.from_file(DEFAULT_TEMPLATE, {"ConsoleOrigins": origins} if origins else {})
    refs = {**template.parameters(), "AWS::NoValue": ""}
    return cors_of(template, Resolver(refs, {}, template.body.get("Conditions", {})))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        self.calls.append((method, target, dict(headers), body))
        return json_response(401, {"message": "Unauthorized"})


def test_the_template_allows_no_origin_by_default_and_the_console_origins_when_given() -> None:
    default = configuration("")
    assert default is not None and default.allow_origins == ()
    given = configuration(f"{ORIGIN},http://127.0.0.1:8080")
    assert given is not None
    assert given.allow_origins == (ORIGIN, "http://127.0.0.1:8080")
    assert "authorization" in given.allow_headers and "PUT" in given.allow_methods


def test_a_preflight_is_answered_before_any_route_and_only_for_allowed_origins() -> None:
    inner = Recorder()
    gateway = WithCors(inner, configuration(ORIGIN))
    asked = [("Origin", ORIGIN), ("Access-Control-Request-Method", "PUT"),
             ("Access-Control-Request-Headers", "authorization, content-type")]  # fmt: skip
    answer = gateway.handle("OPTIONS", "/accounts/acme/limits", asked, b"", "127.0.0.1")
    headers = dict(answer.headers)
    assert answer.status == 204 and inner.calls == []
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-headers"] == "authorization,content-type"
    assert headers["access-control-max-age"] == "600"
    other = [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "GET")]
    refused = gateway.handle("OPTIONS", "/accounts/acme/balance", other, b"", "127.0.0.1")
    assert refused.status == 204 and "access-control-allow-origin" not in dict(refused.headers)


def test_answers_carry_the_origin_when_allowed_the_authorizers_included() -> None:
    gateway = WithCors(Recorder(), configuration(ORIGIN))
    answer = gateway.handle("GET", "/accounts/acme/balance", [("Origin", ORIGIN)], b"", "127.0.0.1")
    assert answer.status == 401 and dict(answer.headers)["access-control-allow-origin"] == ORIGIN
    other = gateway.handle("GET", "/accounts/acme/balance", [("Origin", "https://x.example")], b"", "1.2.3.4")
    assert "access-control-allow-origin" not in dict(other.headers)
    without = WithCors(Recorder(), None).handle("GET", "/", [("Origin", ORIGIN)], b"", "127.0.0.1")
    assert "access-control-allow-origin" not in dict(without.headers)


def console_site() -> tuple[WithConsole, Recorder, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = ConsoleSettings(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:4000",
        key,
        JwtSettings("https://auth.example.com/", "prepaid-credits"),
        "custom:account_id",
        "custom:role",
        ServiceCredential("AKIDLOCAL", "secret"),
    )
    inner = Recorder()
    return WithConsole(inner, settings), inner, key


def test_the_demo_console_page_points_at_localstripe_and_its_bundle_is_served() -> None:
    site, inner, _ = console_site()
    page = site.handle("GET", "/console", [], b"", "127.0.0.1")
    assert page.status == 200
    assert b'stripe-js="http://127.0.0.1:4000/js.stripe.com/v3/"' in page.body
    bundle = site.handle("GET", "/console/credits-console.js", [], b"", "127.0.0.1")
    assert bundle.status == 200 and b"customElements.define('credits-balance-card'" in bundle.body
    for outside in ("/console/../template.yaml", "/console/tests/conftest.py", "/console/package.json/x"):
        assert site.handle("GET", outside, [], b"", "127.0.0.1").status == 404
    site.handle("GET", "/accounts/acme/balance", [], b"", "127.0.0.1")
    assert [call[1] for call in inner.calls] == ["/accounts/acme/balance"]


def test_the_local_sign_in_mints_a_token_for_the_account_and_role() -> None:
    site, _, key = console_site()
    answer = site.handle("POST", "/console/sign-in", [], b'{"account": "acme", "role": "admin"}', "127.0.0.1")
    token = json.loads(answer.body)["token"]
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="prepaid-credits")
    assert (claims["custom:account_id"], claims["custom:role"], claims["iss"]) == (
        "acme",
        "admin",
        "https://auth.example.com/",
    )
    refused = site.handle("POST", "/console/sign-in", [], b'{"account": "acme", "role": "root"}', "127.0.0.1")
    assert refused.status == 400


def test_the_demo_tools_call_the_service_routes_signed() -> None:
    site, inner, _ = console_site()
    site.handle("POST", "/console/demo/usage", [], b'{"account": "acme", "amount": 40}', "127.0.0.1")
    method, target, headers, body = inner.calls[0]
    assert (method, target) == ("POST", "/accounts/acme/usage")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/")
    assert json.loads(body)["operation"] == "render"

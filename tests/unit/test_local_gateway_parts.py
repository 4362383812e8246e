"""The local gateway's parts: route matching, the API Gateway v2 event and response, SigV4 and JWT checks,
and the template's intrinsic functions resolved to local names."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.authorizers import (
    JwtSettings,
    Refused,
    authorize_iam,
    authorize_jwt,
    mint_token,
    sign_request,
)
from credits_local.routes import Match, NoRoute, api_event, http_response, match, routes_of
from credits_local.state import ServiceCredential
from credits_local.template import DEFAULT_TEMPLATE, Resolver, Template, TemplateError

ROUTES = routes_of(Template.from_file(DEFAULT_TEMPLATE).functions())


def test_routes_match_literal_paths_before_parameters_and_methods_apart() -> None:
    found = match(ROUTES, "POST", "/accounts/acme/holds/h 1/capture")  # the gateway decoded the path
    assert (found.route.function, found.route.key) == (
        "HoldsFunction",
        "POST /accounts/{account_id}/holds/{hold_id}/capture",
    )
    assert found.path_parameters == {"account_id": "acme", "hold_id": "h 1"}
    assert (
        match(ROUTES, "GET", "/accounts/acme/holds/h1").route.key
        == "GET /accounts/{account_id}/holds/{hold_id}"
    )
    assert match(ROUTES, "POST", "/accounts/acme/usage").route.function == "DebitFunction"
    assert match(ROUTES, "GET", "/accounts/acme/usage").route.function == "UsageReportFunction"
    with pytest.raises(NoRoute) as missing:
        match(ROUTES, "GET", "/accounts/acme/usage/extra")
    assert missing.value.status == 404
    with pytest.raises(NoRoute) as wrong_method:
        match(ROUTES, "PATCH", "/accounts/acme/usage")
    assert wrong_method.value.status == 405


def event_for(body: bytes, content_type: str, query: str = "") -> dict:
    found: Match = match(ROUTES, "POST", "/accounts/acme/usage")
    headers = [
        ("Content-Type", content_type),
        ("Host", "127.0.0.1:3000"),
        ("Cookie", "a=1; b=2"),
        ("X-Tag", "x"),
        ("X-Tag", "y"),
    ]
    return api_event(found, "POST", "/accounts/acme/usage", query, headers, body, "127.0.0.1", {"iam": {}})


def test_the_event_is_api_gateway_v2s() -> None:
    event = event_for(b'{"amount": 1}', "application/json", "a=1&a=2&b=")
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "POST /accounts/{account_id}/usage",
        "/accounts/acme/usage",
    )
    assert (event["body"], event["isBase64Encoded"]) == ('{"amount": 1}', False)
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-tag"] == "x,y"
    assert event["pathParameters"] == {"account_id": "acme"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["authorizer"] == {"iam": {}}


def test_binary_bodies_are_base64() -> None:
    event = event_for(b"\xff\x00binary", "application/octet-stream")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00binary"


def test_responses_are_shaped_as_api_gateway_shapes_them() -> None:
    shaped = http_response({"statusCode": 201, "headers": {"x": "1"}, "cookies": ["c=1"], "body": "{}"})
    assert (shaped.status, shaped.body) == (201, b"{}")
    assert ("set-cookie", "c=1") in shaped.headers and ("x", "1") in shaped.headers
    binary = http_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x01"
    inferred = http_response({"balance": 5})  # no statusCode: a 200 with the value as JSON
    assert (inferred.status, json.loads(inferred.body)) == (200, {"balance": 5})


CREDENTIAL = ServiceCredential("AKIALOCALTEST", "secret")
URL = "http://127.0.0.1:3000/accounts/acme/usage?dry=1"


def verify(
    headers: dict[str, str],
    body: bytes,
    path: str = "/accounts/acme/usage",
    query: str = "dry=1",
    now: float | None = None,
) -> dict:
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered.setdefault("host", "127.0.0.1:3000")
    return authorize_iam("POST", path, query, lowered, body, CREDENTIAL, now)


def test_sigv4_signatures_are_recomputed_over_what_was_signed() -> None:
    body = b'{"amount": 1}'
    headers = sign_request(CREDENTIAL, "POST", URL, body, {"content-type": "application/json"})
    assert verify(headers, body)["iam"]["accessKey"] == "AKIALOCALTEST"
    with pytest.raises(Refused):
        verify(headers, b'{"amount": 2}')  # another body
    with pytest.raises(Refused):
        verify(headers, body, query="dry=0")  # another query
    with pytest.raises(Refused):
        verify({**headers, "content-type": "text/plain"}, body)  # a signed header changed
    with pytest.raises(Refused) as late:
        verify(headers, body, now=time.time() + 3600)
    assert "expired" in late.value.reason
    with pytest.raises(Refused):
        verify({**headers, "x-amz-content-sha256": "0" * 64}, body)


def test_jwt_claims_come_back_as_strings_as_api_gateway_passes_them() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = JwtSettings("https://issuer/", "aud")
    token = mint_token(
        key, settings, {"custom:account_id": "acme", "groups": ["a", "b"], "admin": True, "scope": "x y"}
    )
    context = authorize_jwt({"authorization": f"Bearer {token}"}, key.public_key(), settings)
    claims = context["jwt"]["claims"]
    assert (claims["custom:account_id"], claims["groups"], claims["admin"]) == ("acme", "[a b]", "true")
    assert isinstance(claims["exp"], str) and context["jwt"]["scopes"] == ["x", "y"]


def test_intrinsic_functions_resolve_to_local_values() -> None:
    resolver = Resolver(
        refs={"AWS::StackName": "s", "Table": "s-Table", "Mode": "on"},
        attributes={"Table.Arn": "arn:table"},
        conditions={"IsOn": {"Fn::Equals": [{"Ref": "Mode"}, "on"]}},
    )
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}-bus"}) == "s-bus"
    assert resolver.resolve({"Fn::Sub": "${Table.Arn}/x"}) == "arn:table/x"
    assert resolver.resolve({"Fn::Sub": ["${A}-${Table}", {"A": {"Ref": "Mode"}}]}) == "on-s-Table"
    assert resolver.resolve({"Fn::If": ["IsOn", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::Join": ["/", ["a", {"Ref": "Table"}]]}) == "a/s-Table"
    assert resolver.resolve({"Variables": {"T": {"Fn::GetAtt": ["Table", "Arn"]}}}) == {
        "Variables": {"T": "arn:table"}
    }
    with pytest.raises(TemplateError):
        resolver.resolve({"Ref": "Nowhere"})
    with pytest.raises(TemplateError):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_parameters_take_overrides_and_refuse_unknown_ones() -> None:
    assert Template.from_file(DEFAULT_TEMPLATE, {"LogLevel": "DEBUG"}).parameters()["LogLevel"] == "DEBUG"
    with pytest.raises(TemplateError):
        Template.from_file(DEFAULT_TEMPLATE, {"NoSuchParameter": "x"})

"""The local gateway answers as API Gateway's HTTP API does at its edges: paths decoded once, any method
routed (405 JSON), an over-long URL 414 JSON, SigV4 only for the API's region; and the handlers' own gate
answers malformed bodies in the ledger's error shape over HTTP."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from credits_local.authorizers import sign_request
from tests.e2e.conftest import Stack


def raw(stack: Stack, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None):
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request(method, target, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("content-type"), response.read()
    finally:
        connection.close()


def test_a_percent_encoded_account_id_is_the_decoded_one(stack: Stack) -> None:
    token = stack.token("enc:oded")
    plain = stack.account(
        "PUT", "/accounts/enc:oded/limits", token, {"low_balance_threshold": 7, "hard_limit": 0}
    )
    assert plain.status == 200, plain.body
    encoded = stack.account("GET", "/accounts/enc%3Aoded/limits", token)
    assert (encoded.status, encoded.body["low_balance_threshold"]) == (200, 7)
    assert stack.account("GET", "/accounts/enc%3aoded/balance", token).status == 200


def test_other_methods_are_405_json_and_a_long_url_414_json(stack: Stack) -> None:
    for method in ("TRACE", "QUERY", "PROPFIND"):
        status, kind, body = raw(stack, method, "/accounts/acme/balance")
        assert (status, kind, json.loads(body)) == (
            405,
            "application/json",
            {"message": "Method Not Allowed"},
        )
    status, kind, body = raw(stack, "GET", "/accounts/acme/balance?x=" + "a" * 100_000)
    assert (status, kind) == (414, "application/json") and json.loads(body)["message"]


def test_sigv4_for_another_region_is_refused(stack: Stack) -> None:
    path = "/accounts/region-check/grants"
    body = json.dumps({"amount": 1, "source": "promotional", "idempotency_key": "r"}).encode()
    headers = {"content-type": "application/json"}
    elsewhere = sign_request(stack.service, "POST", stack.url + path, body, headers, region="eu-west-1")
    assert stack.request("POST", path, body, elsewhere).status == 403
    here = sign_request(stack.service, "POST", stack.url + path, body, headers)
    assert stack.request("POST", path, body, here).status == 201


def test_malformed_bodies_answer_in_the_error_shape_over_http(stack: Stack) -> None:
    token = stack.token("gate")
    auth = {"authorization": f"Bearer {token}"}
    for content_type, status in [
        ("multipart/form-data", 415),
        ("text/plain", 415),
        ("application/JSON", 200),
    ]:
        reply = stack.request(
            "PUT",
            "/accounts/gate/limits",
            b'{"low_balance_threshold": 1, "hard_limit": 0}',
            {**auth, "content-type": content_type},
        )
        assert reply.status == status, reply.body
        if status != 200:
            assert set(reply.body) == {"error", "message"}
    deep = b"[" * 10_000 + b"]" * 10_000
    reply = stack.request("PUT", "/accounts/gate/limits", deep, {**auth, "content-type": "application/json"})
    assert (reply.status, reply.body["error"]) == (400, "malformed_json")
    member = {
        "authorization": f"Bearer {stack.token('gate', role='member')}",
        "content-type": "application/json",
    }
    assert stack.request("PUT", "/accounts/gate/limits", b'{"x": 1}', member).status == 403

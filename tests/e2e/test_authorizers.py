"""The gateway refuses what API Gateway's authorizers refuse, before any handler runs."""

from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.authorizers import mint_token, sign_request
from credits_local.state import ServiceCredential
from tests.e2e.conftest import JWT, Stack

ACCOUNT = "authz"


def balance_with(stack: Stack, authorization: str | None) -> int:
    headers = {"authorization": authorization} if authorization is not None else {}
    reply = stack.request("GET", f"/accounts/{ACCOUNT}/balance", headers=headers)
    if reply.status == 401:
        assert reply.body == {"message": "Unauthorized"}
    return reply.status


def test_account_routes_need_a_valid_token(stack: Stack) -> None:
    assert balance_with(stack, f"Bearer {stack.token(ACCOUNT)}") == 200
    assert (
        balance_with(stack, stack.token(ACCOUNT)) == 200
    )  # API Gateway takes the token without "Bearer" too

    claims = {"custom:account_id": ACCOUNT, "custom:role": "owner"}
    registered = {"iss": JWT.issuer, "aud": JWT.audience, "exp": 4102444800}
    unsigned = jwt.encode({**claims, **registered}, key=None, algorithm="none")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert balance_with(stack, None) == 401
    assert balance_with(stack, "Bearer ") == 401
    assert balance_with(stack, f"Bearer {unsigned}") == 401
    assert balance_with(stack, f"Bearer {mint_token(other_key, JWT, claims)}") == 401
    assert balance_with(stack, f"Bearer {stack.token(ACCOUNT, expires_in=-60)}") == 401
    wrong_audience = mint_token(stack.state.signing_key(), type(JWT)(JWT.issuer, "someone-else"), claims)
    assert balance_with(stack, f"Bearer {wrong_audience}") == 401
    wrong_issuer = mint_token(
        stack.state.signing_key(), type(JWT)("https://evil.example/", JWT.audience), claims
    )
    assert balance_with(stack, f"Bearer {wrong_issuer}") == 401


def test_the_claims_reach_the_handler_as_api_gateway_passes_them(stack: Stack) -> None:
    """The handler's own check (account and role claims) sees the verified claims."""
    assert stack.account("GET", f"/accounts/{ACCOUNT}/balance", stack.token("someone-else")).status == 403
    assert (
        stack.account("GET", f"/accounts/{ACCOUNT}/balance", stack.token(ACCOUNT, role="member")).status
        == 403
    )
    assert (
        stack.account("GET", f"/accounts/{ACCOUNT}/limits", stack.token(ACCOUNT, role="admin")).status == 200
    )


def test_service_routes_need_a_valid_signature(stack: Stack) -> None:
    path = f"/accounts/{ACCOUNT}/grants"
    grant = {"amount": 500, "source": "promotional", "idempotency_key": "authz-grant"}
    body = json.dumps(grant).encode()
    url = stack.url + path
    json_type = {"content-type": "application/json"}

    assert stack.request("POST", path, body, {"content-type": "application/json"}).status == 403
    assert stack.account("POST", path, stack.token(ACCOUNT), grant).status == 403  # a JWT is not a signature
    wrong_secret = ServiceCredential(stack.service.access_key_id, "not-the-secret")
    assert stack.request("POST", path, body, sign_request(wrong_secret, "POST", url, body)).status == 403
    unknown_key = ServiceCredential("AKIAUNKNOWN", stack.service.secret_access_key)
    assert stack.request("POST", path, body, sign_request(unknown_key, "POST", url, body)).status == 403
    signed = sign_request(stack.service, "POST", url, body, json_type)
    tampered = json.dumps({**grant, "amount": 500_000}).encode()
    reply = stack.request("POST", path, tampered, signed)
    assert (reply.status, reply.body) == (403, {"message": "Forbidden"})
    for_another_path = sign_request(stack.service, "POST", stack.url + f"/accounts/{ACCOUNT}-2/grants", body)
    assert stack.request("POST", path, body, for_another_path).status == 403

    # none of them granted anything; the signed request does
    card = stack.account("GET", f"/accounts/{ACCOUNT}/balance", stack.token(ACCOUNT))
    assert card.body["lifetime_added"] == 0
    assert stack.request("POST", path, body, signed).status == 201


def test_unknown_routes_are_404_and_wrong_methods_405(stack: Stack) -> None:
    token = stack.token(ACCOUNT)
    assert stack.account("GET", f"/accounts/{ACCOUNT}/nothing-here", token).status == 404
    assert stack.account("GET", "/", token).status == 404
    wrong_method = stack.account("DELETE", f"/accounts/{ACCOUNT}/balance", token)
    assert (wrong_method.status, wrong_method.body) == (405, {"message": "Method Not Allowed"})
    assert stack.service_call("PUT", f"/accounts/{ACCOUNT}/usage", {}).status == 405

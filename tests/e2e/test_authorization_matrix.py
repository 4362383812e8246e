"""Who may call what, over HTTP against the local stack: every route of template.yaml by every kind of
caller, each sending input the route would refuse, so that a caller who may not call gets 401 or 403 and
never the 422 that would describe the request to them (a JWT on a service route: the member, admin and
owner rows).

| caller                     | account routes (JWT) | GET /packages (JWT) | service routes (IAM) | webhook |
|----------------------------|----------------------|---------------------|----------------------|---------|
| no token                   | 401                  | 401                 | 403                  | 400     |
| bad token / bad signature  | 401                  | 401                 | 403                  | 400     |
| member of the account      | 403                  | allowed             | 403                  | 400     |
| admin of the account       | allowed              | allowed             | 403                  | 400     |
| owner of the account       | allowed              | allowed             | 403                  | 400     |
| owner of another account   | 403                  | allowed             | 403                  | 400     |
| service credential (SigV4) | 401                  | 401                 | allowed              | 400     |

"allowed" means the route itself answered: its 400/422 for the invalid input, or for a route with no input
to get wrong, anything but 401, 403 and 500. The webhook has no caller check: Stripe's signature is its
check, and every one of these deliveries is unsigned (400)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from credits_local.authorizers import sign_request
from credits_local.state import ServiceCredential
from credits_local.template import http_routes
from tests.e2e.conftest import Stack

ACCOUNT = "matrix"
PARAMS = {"account_id": ACCOUNT, "hold_id": "hold_missing", "purchase_id": "pur_missing"}
INVALID_QUERY = {
    "/accounts/{account_id}/transactions": "?limit=0",
    "/accounts/{account_id}/usage": "?from=yesterday&to=today",
    "/accounts/{account_id}/transactions/export": "?format=xml&from=yesterday",
    "/accounts/{account_id}/balance": "?at=soon",
}
CALLERS = ["no_token", "bad_token", "member", "admin", "owner", "other_owner", "service"]
ROUTES = sorted(http_routes(), key=lambda r: (r[2], r[1]))


def expected(authorizer: str, path: str, caller: str) -> int | str:
    """The status the cell must answer, or "allowed"."""
    if authorizer == "NONE":
        return 400
    if authorizer == "AWS_IAM":
        return "allowed" if caller == "service" else 403
    if caller in ("no_token", "bad_token", "service"):
        return 401
    if path == "/packages":
        return "allowed"
    return "allowed" if caller in ("admin", "owner") else 403


def has_body(method: str, path: str) -> bool:
    return method in ("POST", "PUT") and not path.endswith("/release")


def send(stack: Stack, method: str, route: str, authorizer: str, caller: str) -> tuple[int, Any]:
    path = route.format(**PARAMS) + INVALID_QUERY.get(route, "")
    body = json.dumps({"nonsense": True}).encode() if has_body(method, route) else b""
    headers = {"content-type": "application/json"} if body else {}
    token = {
        "member": stack.token(ACCOUNT, role="member"),
        "admin": stack.token(ACCOUNT, role="admin"),
        "owner": stack.token(ACCOUNT),
        "other_owner": stack.token("someone-else"),
    }.get(caller)
    if token:
        headers["authorization"] = f"Bearer {token}"
    elif caller == "bad_token" and authorizer == "AWS_IAM":
        wrong = ServiceCredential(stack.service.access_key_id, "not-the-secret")
        headers.update(sign_request(wrong, method, stack.url + path, body, headers))
    elif caller == "bad_token":
        headers["authorization"] = "Bearer not.a.token"
    elif caller == "service":
        headers.update(sign_request(stack.service, method, stack.url + path, body, headers))
    reply = stack.request(method, path, body, headers)
    return reply.status, reply.body


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("function", "method", "route", "authorizer"), ROUTES, ids=[f"{m} {p}" for _, m, p, _ in ROUTES]
)
def test_every_route_for_every_caller(
    stack: Stack, function: str, method: str, route: str, authorizer: str, caller: str
) -> None:
    status, body = send(stack, method, route, authorizer, caller)
    want = expected(authorizer, route, caller)
    assert status != 500, body
    if want == "allowed":
        assert status not in (401, 403), (status, body)
        if has_body(method, route) or route in INVALID_QUERY:
            assert status in (400, 422), (status, body)
            assert body["error"] in ("invalid_request", "malformed_json"), body
    else:
        assert status == want, (status, body)
        if want == 403 and isinstance(body, dict) and "error" in body:
            assert body["error"] == "forbidden" and "details" not in body


def test_the_matrix_covers_every_route_of_the_template() -> None:
    assert len(ROUTES) == 21
    assert {a for *_, a in ROUTES} == {"JwtAuthorizer", "AWS_IAM", "NONE"}

"""API Gateway HTTP API (payload 2.0) events, as the JWT and IAM authorizers hand them to Lambda."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

ACCOUNT_CLAIM = "custom:account_id"
ROLE_CLAIM = "custom:role"


def http_event(
    method: str,
    route: str,
    path_parameters: dict[str, str],
    body: Any = None,
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    iam: bool = False,
    raw_body: str | None = None,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    path = route
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", value)
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    authorizer: dict[str, Any] = {}
    if claims is not None:
        authorizer["jwt"] = {"claims": claims, "scopes": None}
    if iam:
        authorizer["iam"] = {
            "accessKey": "ASIAEXAMPLE",
            "accountId": "123456789012",
            "callerId": "AROAEXAMPLE:saas-backend",
            "principalOrgId": None,
            "userArn": "arn:aws:sts::123456789012:assumed-role/saas-backend/worker",
            "userId": "AROAEXAMPLE:worker",
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "host": "api.example.com", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "authorizer": authorizer,
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.1",
                "userAgent": "tests",
            },
            "requestId": "req",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795003200000,
        },
        "pathParameters": path_parameters,
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = query
    if text is not None:
        event["body"] = base64.b64encode(text.encode()).decode() if base64_body else text
    return event


def owner(account_id: str, role: str = "owner") -> dict[str, str]:
    return {ACCOUNT_CLAIM: account_id, ROLE_CLAIM: role, "sub": f"user-of-{account_id}"}


def parse(response: dict[str, Any]) -> tuple[int, Any]:
    body = response.get("body")
    return response["statusCode"], json.loads(body) if body else None

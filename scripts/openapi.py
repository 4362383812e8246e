"""Write docs/openapi.json: one OpenAPI document merged from every function's resolver in template.yaml.

python scripts/openapi.py          # rewrite the document
python scripts/openapi.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "ledger"), str(ROOT)]

from credits_local.template import function_dirs, http_routes  # noqa: E402
from devkit.lambdas import function_module  # noqa: E402

DOCUMENT = ROOT / "docs" / "openapi.json"
ERROR_SCHEMA = {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
GATEWAY_SCHEMA = {"schema": {"$ref": "#/components/schemas/GatewayMessage"}}
EITHER_SCHEMA = {
    "schema": {
        "anyOf": [{"$ref": "#/components/schemas/ErrorOut"}, {"$ref": "#/components/schemas/GatewayMessage"}]
    }
}
# status → (what it means, who answers it: the function's error shape, API Gateway's, or either)
STATUSES: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("malformed_json: the body is not UTF-8 JSON or nests too deeply", ERROR_SCHEMA),
    "401": ("Unauthorized (API Gateway): no valid token", GATEWAY_SCHEMA),
    "402": ("insufficient_credits: available would fall below the floor", ERROR_SCHEMA),
    "403": (
        "forbidden: not this account's owner or admin, or not an IAM-signed service request",
        EITHER_SCHEMA,
    ),
    "404": (
        "not_found: no such hold, package or purchase, or a path parameter no route takes (characters outside "
        "letters, digits and -._~()'!*:@,;=+&$%<> []{}|^)",
        ERROR_SCHEMA,
    ),
    "409": ("idempotency_conflict, hold_not_open, hold_expired or payment_method_required", ERROR_SCHEMA),
    "413": (
        "payload_too_large: a body over 64 KB (over 1 MB on /usage/batch, 512 KB on /webhooks/stripe)",
        ERROR_SCHEMA,
    ),
    "415": ("unsupported_media_type: a body that is not application/json", ERROR_SCHEMA),
    "422": ("invalid_request: a field is missing, of the wrong type, or out of range", ERROR_SCHEMA),
    "429": ("account_busy (retry with the same key), or API Gateway's throttling", EITHER_SCHEMA),
    "502": ("payment_provider_error: Stripe failed or refused the request (retry)", ERROR_SCHEMA),
    "503": ("service_unavailable: DynamoDB unreachable or throttling (retry)", ERROR_SCHEMA),
}
ACCOUNT_ROUTE = ("403", "404", "422", "429", "503")
BODY = ("400", "413", "415", "422")
# the statuses each operation may answer besides its success (gateway statuses added by authorizer below)
ROUTE_STATUSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/accounts/{account_id}/balance"): ACCOUNT_ROUTE,
    ("GET", "/accounts/{account_id}/transactions"): ACCOUNT_ROUTE,
    ("GET", "/accounts/{account_id}/transactions/export"): ACCOUNT_ROUTE,
    ("GET", "/accounts/{account_id}/usage"): ACCOUNT_ROUTE,
    ("GET", "/accounts/{account_id}/limits"): ACCOUNT_ROUTE,
    ("PUT", "/accounts/{account_id}/limits"): (*ACCOUNT_ROUTE, *BODY),
    ("POST", "/accounts/{account_id}/usage"): (*ACCOUNT_ROUTE, *BODY, "402", "409"),
    ("POST", "/accounts/{account_id}/holds"): (*ACCOUNT_ROUTE, *BODY, "402", "409"),
    ("POST", "/accounts/{account_id}/holds/{hold_id}/capture"): (*ACCOUNT_ROUTE, *BODY, "402", "404", "409"),
    ("POST", "/accounts/{account_id}/holds/{hold_id}/release"): (*ACCOUNT_ROUTE, "404", "409"),
    ("GET", "/accounts/{account_id}/holds/{hold_id}"): (*ACCOUNT_ROUTE, "404"),
    ("POST", "/accounts/{account_id}/grants"): (*ACCOUNT_ROUTE, *BODY, "409"),
    ("GET", "/packages"): ("429",),
    ("POST", "/accounts/{account_id}/purchases"): (*ACCOUNT_ROUTE, *BODY, "404", "502"),
    ("GET", "/accounts/{account_id}/purchases/{purchase_id}"): (*ACCOUNT_ROUTE, "404"),
    ("POST", "/accounts/{account_id}/billing-portal"): (*ACCOUNT_ROUTE, *BODY, "502"),
    ("GET", "/accounts/{account_id}/auto-top-up"): (*ACCOUNT_ROUTE, "502"),
    ("PUT", "/accounts/{account_id}/auto-top-up"): (*ACCOUNT_ROUTE, *BODY, "409", "502"),
    ("POST", "/usage/batch"): ("422", "429", "503", *BODY),
    ("POST", "/accounts/{account_id}/adjustments"): (*ACCOUNT_ROUTE, *BODY, "402", "409"),
    ("POST", "/webhooks/stripe"): ("400", "413", "429", "502", "503"),
}
STRICT_INTEGERS = (
    "Integers are strict: a JSON number with a fraction or an exponent (2.0, 1e3), a string or a boolean "
    "is refused with 422, never coerced."
)
SECURITY: dict[str, list[Any]] = {"AWS_IAM": [{"sigv4": []}], "JwtAuthorizer": [{"jwt": []}], "NONE": []}


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    routes = http_routes()
    directories = function_dirs()
    for function in sorted({fn for fn, *_ in routes}):
        module = function_module(directories[function].name)
        spec = json.loads(module.app.get_openapi_json_schema(title="Prepaid Credits", version="1.0.0"))
        for path, operations in spec.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(spec.get("components", {}).get("schemas", {}))
    from ledger.api.documented import model_of
    from ledger.api.models import ErrorOut

    schemas["ErrorOut"] = model_of(ErrorOut).model_json_schema()
    schemas["GatewayMessage"] = {
        "title": "GatewayMessage",
        "description": "What API Gateway itself answers (its authorizers, its throttling).",
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for _, method, path, authorizer in routes:
        operation = paths[path][method.lower()]
        operation["security"] = SECURITY[authorizer]
        responses = operation.setdefault("responses", {})
        for status in list(responses):
            if status.startswith("4") or status.startswith("5"):
                del responses[status]  # documented below, one way for every route
        statuses = set(ROUTE_STATUSES[(method, path)])
        if authorizer == "JwtAuthorizer":
            statuses.add("401")
        if authorizer == "AWS_IAM":
            statuses.add("403")
        for status in sorted(statuses):
            description, schema = STATUSES[status]
            responses[status] = {"description": description, "content": {"application/json": schema}}
        if "422" in statuses:
            operation["description"] = (operation.get("description", "") + "\n\n" + STRICT_INTEGERS).strip()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Prepaid Credits",
            "version": "1.0.0",
            "description": "Account routes take the account's owner or admin JWT; service routes are IAM-signed.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 (execute-api)",
                },
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if DOCUMENT.exists() and DOCUMENT.read_text() == text else 1)
    DOCUMENT.write_text(text)

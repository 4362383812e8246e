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

from tests.support.lambdas import function_module  # noqa: E402
from tests.support.template import function_dirs, http_routes  # noqa: E402

DOCUMENT = ROOT / "docs" / "openapi.json"
ERROR_SCHEMA = {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
ERRORS = {
    "403": "forbidden: not this account's owner or admin, or not an IAM-signed service request",
    "422": "invalid_request: a field is missing, of the wrong type, or out of range",
}
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
    from ledger.api.models import ErrorOut

    schemas["ErrorOut"] = ErrorOut.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for _, method, path, authorizer in routes:
        operation = paths[path][method.lower()]
        operation["security"] = SECURITY[authorizer]
        responses = operation.setdefault("responses", {})
        for status, description in ERRORS.items():
            if status not in responses or status == "422":
                responses[status] = {
                    "description": description,
                    "content": {"application/json": ERROR_SCHEMA},
                }
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

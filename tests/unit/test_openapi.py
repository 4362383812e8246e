"""docs/openapi.json is generated from the handlers: it must be current and cover every route in the template."""

from __future__ import annotations

import json
import subprocess
import sys

from credits_local.template import ROOT, http_routes


def test_the_committed_document_is_current() -> None:
    result = subprocess.run([sys.executable, "scripts/openapi.py", "--check"], cwd=ROOT, check=False)
    assert result.returncode == 0, "docs/openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_with_its_authorizer() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    for _, method, path, authorizer in http_routes():
        operation = document["paths"][path][method.lower()]
        expected = {"AWS_IAM": [{"sigv4": []}], "JwtAuthorizer": [{"jwt": []}], "NONE": []}[authorizer]
        assert operation["security"] == expected, f"{method} {path}"


def test_every_status_the_api_answers_is_documented() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    ops = {(m.upper(), p): o for p, item in document["paths"].items() for m, o in item.items()}
    for method, path in [
        ("POST", "/accounts/{account_id}/holds"),
        ("POST", "/accounts/{account_id}/holds/{hold_id}/capture"),
    ]:
        assert "402" in ops[(method, path)]["responses"]
    for operation in ops.values():
        responses = operation["responses"]
        assert "429" in responses
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses)
    put = ops[("PUT", "/accounts/{account_id}/auto-top-up")]["responses"]
    assert put["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TopUpSettingsOut")
    assert put["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert {"401", "403"} <= set(ops[("GET", "/accounts/{account_id}/balance")]["responses"])
    assert {"502", "503"} <= set(ops[("POST", "/webhooks/stripe")]["responses"])

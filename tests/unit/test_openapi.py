"""docs/openapi.json is generated from the handlers: it must be current and cover every route in the template."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.template import ROOT, http_routes


def test_the_committed_document_is_current() -> None:
    result = subprocess.run([sys.executable, "scripts/openapi.py", "--check"], cwd=ROOT, check=False)
    assert result.returncode == 0, "docs/openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_with_its_authorizer() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    for _, method, path, authorizer in http_routes():
        operation = document["paths"][path][method.lower()]
        expected = {"AWS_IAM": [{"sigv4": []}], "JwtAuthorizer": [{"jwt": []}], "NONE": []}[authorizer]
        assert operation["security"] == expected, f"{method} {path}"

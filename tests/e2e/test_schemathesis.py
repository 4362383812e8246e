"""Property-based tests of the whole HTTP API against the local stack, from docs/openapi.json (schemathesis).

Every operation, with valid and invalid data, a fixed seed (derandomized) and a bound on cases: no response is
a 500, and every response conforms to the document (its status, content type and body schema). Each case is
sent as its caller would: account routes with the owner's JWT for the case's own account (so the handlers
run, not only the authorizer), service routes SigV4-signed over the exact body sent, the webhook as is."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credits_local.authorizers import sign_request
from credits_local.template import ROOT
from tests.e2e.conftest import Stack

EXAMPLES_PER_OPERATION = 60  # 21 operations: over 1,000 cases, about a minute here
# 502 and 503 are answers (Stripe or DynamoDB unavailable: localstripe has no billing portal), 500 never is
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
SENT: dict[str, int] = {}  # cases sent per operation


class CallerAuth(requests.auth.AuthBase):
    """Signs the prepared request as the route's caller would: after the body is final."""

    def __init__(self, stack: Stack, security: list[dict[str, Any]], account: str | None) -> None:
        self.stack, self.security, self.account = stack, security, account

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        kinds = {name for requirement in self.security for name in requirement}
        if "jwt" in kinds:
            request.headers["Authorization"] = f"Bearer {self.stack.token(self.account or 'schemathesis')}"
        if "sigv4" in kinds:
            body = request.body or b""
            data = body.encode() if isinstance(body, str) else body
            headers = {k.lower(): v for k, v in request.headers.items() if k.lower() == "content-type"}
            request.headers.update(
                sign_request(self.stack.service, request.method or "GET", request.url or "", data, headers)
            )
        return request


OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_conforms_and_never_fails(operation: Any, stack: Stack) -> None:
    # one test per operation, each with its own id (so that parallel runs tell them apart)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        security = case.operation.definition.raw.get("security", [])
        account = (case.path_parameters or {}).get("account_id")
        auth = CallerAuth(stack, security, account if isinstance(account, str) else None)
        with requests.Session() as session:
            response = case.call(base_url=stack.url, session=session, auth=auth, timeout=60)
        SENT[case.operation.label] = SENT.get(case.operation.label, 0) + 1
        assert response.status_code != 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.slow
def test_the_run_covered_every_operation_with_over_1000_cases() -> None:
    if not SENT:
        pytest.skip("the schemathesis cases did not run in this session")
    assert len(SENT) == len(OPERATIONS) == 21
    assert sum(SENT.values()) >= 1000, SENT
    print(f"schemathesis: {sum(SENT.values())} cases over {len(SENT)} operations")

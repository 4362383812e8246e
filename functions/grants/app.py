"""POST /accounts/{account_id}/grants: grant promotional, plan or adjustment credits (service, IAM)."""

from typing import Annotated, Any

import ledger
from ledger.api.auth import require_service
from ledger.api.grant_models import GrantIn, GrantResultOut
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.router import Body, Response

app = resolver("service")


@app.post(
    "/accounts/<account_id>/grants",
    responses={201: {"description": "Granted", "content": {"application/json": {"model": GrantResultOut}}}},
)
def post_grant(account_id: str, body: Annotated[GrantIn, Body()]) -> Response[Any]:
    require_service(app)
    made = ledger.grant(
        account_id,
        body.amount,
        body.source,
        body.idempotency_key,
        expires_at=body.expires_at,
        priority=body.priority,
        description=body.description,
    )
    return created(GrantResultOut.of(made))


handler = lambda_handler(app)

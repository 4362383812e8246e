"""POST /accounts/{account_id}/usage: debit credits for a unit of work (service, IAM)."""

from typing import Annotated, Any

import ledger
from ledger.api.auth import require_service
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.models import DebitIn, ErrorOut, WriteOut
from ledger.api.router import Body, Response

app = resolver("service")


@app.post(
    "/accounts/<account_id>/usage",
    responses={
        201: {"description": "Debited", "content": {"application/json": {"model": WriteOut}}},
        402: {"description": "Not enough credits", "content": {"application/json": {"model": ErrorOut}}},
        409: {
            "description": "Key reused with another body",
            "content": {"application/json": {"model": ErrorOut}},
        },
    },
)
def post_usage(account_id: str, body: Annotated[DebitIn, Body()]) -> Response[Any]:
    require_service(app)
    result = ledger.debit(
        account_id, body.amount, body.operation, body.idempotency_key, metadata=body.metadata
    )
    return created(WriteOut.of(result))


handler = lambda_handler(app)

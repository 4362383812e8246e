"""POST /accounts/{account_id}/adjustments: an operator's correction, as an entry of its own (service, IAM)."""

from typing import Annotated, Any

import ledger
from ledger.api.auth import require_service
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.models import AdjustmentIn, ErrorOut, WriteOut
from ledger.api.router import Body, Response

app = resolver("service")


@app.post(
    "/accounts/<account_id>/adjustments",
    responses={
        201: {"description": "Adjusted", "content": {"application/json": {"model": WriteOut}}},
        402: {
            "description": "A negative adjustment would take available below the floor",
            "content": {"application/json": {"model": ErrorOut}},
        },
        409: {
            "description": "Key reused with another body",
            "content": {"application/json": {"model": ErrorOut}},
        },
    },
)
def post_adjustment(account_id: str, body: Annotated[AdjustmentIn, Body()]) -> Response[Any]:
    require_service(app)
    result = ledger.adjust(
        account_id, body.amount, body.reason, body.idempotency_key, allow_below_floor=body.allow_below_floor
    )
    return created(WriteOut.of(result))


handler = lambda_handler(app)

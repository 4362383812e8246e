"""POST /usage/batch: up to 100 usage events across any accounts, one result each (service, IAM)."""

from http import HTTPStatus
from typing import Annotated, Any

import ledger
from ledger.api.auth import require_service
from ledger.api.http import lambda_handler, resolver
from ledger.api.router import Body, Response
from ledger.api.usage_batch_models import UsageBatchIn, UsageBatchOut, UsageResultOut
from ledger.shapes import jsonable

MAX_BODY = 1024 * 1024  # 100 events with their metadata fit well within it

app = resolver("service", max_body=MAX_BODY)


@app.post(
    "/usage/batch",
    responses={
        200: {
            "description": "One result per event",
            "content": {"application/json": {"model": UsageBatchOut}},
        }
    },
)
def post_usage_batch(body: Annotated[UsageBatchIn, Body()]) -> Response[Any]:
    require_service(app)
    results = ledger.debit_many(body.events)
    payload = UsageBatchOut(results=[UsageResultOut.of(r) for r in results])
    return Response(
        status_code=HTTPStatus.OK, content_type="application/json", body=jsonable(payload, drop_none=True)
    )


handler = lambda_handler(app)

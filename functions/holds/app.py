"""Holds (service, IAM): place, capture, release, read."""

from typing import Annotated, Any

import ledger
from ledger.api.auth import require_service
from ledger.api.hold_models import CaptureIn, HoldIn, HoldOut, HoldResolutionOut
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.router import Body, Response

app = resolver("service")


@app.post(
    "/accounts/<account_id>/holds",
    responses={201: {"description": "Held", "content": {"application/json": {"model": HoldOut}}}},
)
def post_hold(account_id: str, body: Annotated[HoldIn, Body()]) -> Response[Any]:
    require_service(app)
    hold, _ = ledger.place_hold(
        account_id,
        body.amount,
        body.idempotency_key,
        expires_in_seconds=body.expires_in_seconds,
        operation=body.operation,
    )
    return created(HoldOut.of(hold))


@app.post("/accounts/<account_id>/holds/<hold_id>/capture")
def post_capture(
    account_id: str, hold_id: str, body: Annotated[CaptureIn | None, Body()] = None
) -> HoldResolutionOut:
    require_service(app)
    return HoldResolutionOut.of(ledger.capture_hold(account_id, hold_id, body.amount if body else None))


@app.post("/accounts/<account_id>/holds/<hold_id>/release")
def post_release(account_id: str, hold_id: str) -> HoldResolutionOut:
    require_service(app)
    return HoldResolutionOut.of(ledger.release_hold(account_id, hold_id))


@app.get("/accounts/<account_id>/holds/<hold_id>")
def get_hold(account_id: str, hold_id: str) -> HoldOut:
    require_service(app)
    return HoldOut.of(ledger.get_hold(account_id, hold_id))


handler = lambda_handler(app)

"""GET/PUT /accounts/{account_id}/auto-top-up: auto top-up's settings and how its latest charge went
(owner or admin)."""

from typing import Annotated

from ledger.api.auth import require_account_admin
from ledger.api.http import lambda_handler, resolver
from ledger.api.models import ErrorOut
from ledger.api.router import Body
from ledger.api.top_up_models import TopUpSettingsIn, TopUpSettingsOut
from ledger.usecases.top_up_settings import get_settings, put_settings

app = resolver("account")


@app.get("/accounts/<account_id>/auto-top-up")
def get_auto_top_up(account_id: str) -> TopUpSettingsOut:
    require_account_admin(app, account_id)
    return TopUpSettingsOut.of(get_settings(account_id))


@app.put(
    "/accounts/<account_id>/auto-top-up",
    responses={
        200: {"description": "The settings", "content": {"application/json": {"model": TopUpSettingsOut}}},
        409: {
            "description": "No saved payment method to charge (payment_method_required)",
            "content": {"application/json": {"model": ErrorOut}},
        },
    },
)
def put_auto_top_up(account_id: str, body: Annotated[TopUpSettingsIn, Body()]) -> TopUpSettingsOut:
    require_account_admin(app, account_id)
    settings = put_settings(account_id, body.enabled, body.threshold, body.amount, body.payment_method_id)
    return TopUpSettingsOut.of(settings)


handler = lambda_handler(app)

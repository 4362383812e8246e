"""POST /accounts/{account_id}/billing-portal (owner/admin, JWT): a Stripe Customer Portal session."""

from typing import Annotated, Any

from ledger.api.auth import require_account_admin
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.purchase_models import BillingPortalIn, BillingPortalOut
from ledger.api.router import Body, Response
from ledger.usecases.purchase import billing_portal

app = resolver("account")


@app.post(
    "/accounts/<account_id>/billing-portal",
    responses={
        201: {"description": "Portal session", "content": {"application/json": {"model": BillingPortalOut}}}
    },
)
def post_portal(account_id: str, body: Annotated[BillingPortalIn, Body()]) -> Response[Any]:
    require_account_admin(app, account_id)
    return created(BillingPortalOut(url=billing_portal(account_id, str(body.return_url))))


handler = lambda_handler(app)

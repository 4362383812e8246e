"""Purchases (owner/admin, JWT): start a Stripe payment for credits; read a purchase's status."""

from typing import Annotated, Any

from ledger.api.auth import require_account_admin
from ledger.api.http import created, lambda_handler, resolver
from ledger.api.purchase_models import NewPurchaseOut, PurchaseIn, PurchaseOut
from ledger.api.router import Body, Response
from ledger.usecases.purchase import create_purchase, get_purchase

app = resolver("account")


@app.post(
    "/accounts/<account_id>/purchases",
    responses={
        201: {"description": "Payment started", "content": {"application/json": {"model": NewPurchaseOut}}}
    },
)
def post_purchase(account_id: str, body: Annotated[PurchaseIn, Body()]) -> Response[Any]:
    require_account_admin(app, account_id)
    new = create_purchase(
        account_id,
        package_id=body.package_id,
        credits=body.credits,
        mode=body.mode,
        return_url=str(body.return_url) if body.return_url else None,
    )
    return created(NewPurchaseOut.made(new))


@app.get("/accounts/<account_id>/purchases/<purchase_id>")
def get_one(account_id: str, purchase_id: str) -> PurchaseOut:
    require_account_admin(app, account_id)
    return PurchaseOut.of(get_purchase(account_id, purchase_id))


handler = lambda_handler(app)

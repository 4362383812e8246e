"""GET/PUT /accounts/{account_id}/limits: the low-balance threshold and the floor (owner or admin)."""

from typing import Annotated

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.http import lambda_handler, resolver
from ledger.api.models import LimitsIn, LimitsOut
from ledger.api.router import Body

app = resolver("account")


@app.get("/accounts/<account_id>/limits")
def get_limits(account_id: str) -> LimitsOut:
    require_account_admin(app, account_id)
    return LimitsOut.of(ledger.get_limits(account_id))


@app.put("/accounts/<account_id>/limits")
def put_limits(account_id: str, body: Annotated[LimitsIn, Body()]) -> LimitsOut:
    require_account_admin(app, account_id)
    return LimitsOut.of(ledger.set_limits(account_id, body.low_balance_threshold, body.hard_limit))


handler = lambda_handler(app)

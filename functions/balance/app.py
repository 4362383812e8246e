"""GET /accounts/{account_id}/balance: the balance card; with ``at``, the balance as it was then, from the
history (owner or admin)."""

from typing import Annotated

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.balance_models import BalanceAtOut, BalanceCardOut
from ledger.api.http import lambda_handler, resolver
from ledger.api.router import Query
from ledger.shapes import AwareDatetime

app = resolver("account")


@app.get("/accounts/<account_id>/balance")
def get_balance(
    account_id: str,
    at: Annotated[
        AwareDatetime | None,
        Query(description="ISO 8601, not in the future: the figures as they were then, from the history"),
    ] = None,
) -> BalanceCardOut | BalanceAtOut:
    require_account_admin(app, account_id)
    if at is not None:
        return BalanceAtOut.of(ledger.balance_at(account_id, at))
    return BalanceCardOut.of(ledger.balance_card(account_id))


handler = lambda_handler(app)

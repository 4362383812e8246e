"""GET /accounts/{account_id}/balance: the balance card (owner or admin)."""

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.http import lambda_handler, resolver
from ledger.api.models import BalanceCardOut

app = resolver("account")


@app.get("/accounts/<account_id>/balance")
def get_balance(account_id: str) -> BalanceCardOut:
    require_account_admin(app, account_id)
    return BalanceCardOut.of(ledger.balance_card(account_id))


handler = lambda_handler(app)

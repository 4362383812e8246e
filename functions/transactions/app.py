"""GET /accounts/{account_id}/transactions: history, newest first, a page at a time (owner or admin)."""

from typing import Annotated

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.history_models import TransactionsPageOut
from ledger.api.http import lambda_handler, resolver
from ledger.api.router import Query
from ledger.domain.changes import EntryType

app = resolver("account")


@app.get("/accounts/<account_id>/transactions")
def get_transactions(
    account_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    type: Annotated[EntryType | None, Query()] = None,
) -> TransactionsPageOut:
    require_account_admin(app, account_id)
    return TransactionsPageOut.of(ledger.history(account_id, limit=limit, cursor=cursor, type=type))


handler = lambda_handler(app)

"""GET /accounts/{account_id}/usage?from=&to=: consumption by day and operation (owner or admin)."""

from datetime import date
from typing import Annotated

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.history_models import UsageOut
from ledger.api.http import lambda_handler, resolver
from ledger.api.router import Query

app = resolver("account")


@app.get("/accounts/<account_id>/usage")
def get_usage(
    account_id: str,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> UsageOut:
    require_account_admin(app, account_id)
    return UsageOut.of(ledger.usage(account_id, start, end))


handler = lambda_handler(app)

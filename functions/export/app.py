"""GET /accounts/{account_id}/transactions/export: the history as CSV or JSON Lines, oldest first, a page at a
time with the next page's cursor in ``X-Next-Cursor`` (owner or admin)."""

from http import HTTPStatus
from typing import Annotated

import ledger
from ledger.api.auth import require_account_admin
from ledger.api.http import lambda_handler, resolver
from ledger.api.router import Query, Response
from ledger.shapes import AwareDatetime
from ledger.usecases.export import CONTENT_TYPES, MAX_PAGE_ENTRIES, Format

app = resolver("account")

NEXT_CURSOR = "X-Next-Cursor"
PAGE = {
    "description": (
        f"One page of the export: up to {MAX_PAGE_ENTRIES:,} entries in seq order, oldest first (a page may hold "
        "fewer, even none, and still be followed by another). CSV carries its header row on every page; JSON "
        "Lines one entry object per line. Columns and fields: seq, id, created_at, type, amount, "
        "balance_after, held_after, operation, reference, description, hold_id, grant_id, metadata (a JSON "
        "object)."
    ),
    "headers": {
        NEXT_CURSOR: {
            "description": "The next page's cursor; absent on the last page.",
            "schema": {"type": "string"},
        },
        "Content-Disposition": {
            "description": 'attachment; filename="<account>-transactions.csv" (or .jsonl)',
            "schema": {"type": "string"},
        },
    },
    "content": {
        "text/csv; charset=utf-8": {"schema": {"type": "string"}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}


@app.get("/accounts/<account_id>/transactions/export", responses={200: PAGE})
def export_transactions(
    account_id: str,
    format: Annotated[Format, Query(description="csv (default) or jsonl")] = "csv",
    start: Annotated[AwareDatetime | None, Query(alias="from", description="inclusive, ISO 8601")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="exclusive, ISO 8601")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    require_account_admin(app, account_id)
    page = ledger.export_page(account_id, format, start, end, cursor)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in account_id)
    headers = {"Content-Disposition": f'attachment; filename="{safe}-transactions.{format}"'}
    if page.next_cursor:
        headers[NEXT_CURSOR] = page.next_cursor
    return Response(
        status_code=HTTPStatus.OK, content_type=CONTENT_TYPES[format], body=page.body, headers=headers
    )


handler = lambda_handler(app)

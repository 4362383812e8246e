"""Cost against account size: every operation that writes or reads an account, on accounts that lived long.

Each account starts with one grant the real code made, then receives, written directly as the ledger lays
them out, open holds (a hold item and its expiry-order item each), live grants (a grant item each, in burn
order, expiring in 30 to 90 days) and the history of used-up grants (a purchase entry and a consumption entry
each: a used-up grant leaves nothing else behind). The operations then run through the real code against a
single-threaded moto server, one after the other on the same account, and every DynamoDB request is counted
and sized (bench/capture.py, bench/sizes.py). The sweep's work: ``DUE`` grants of the account expire, and the
sweep function (the scheduled one) settles them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ledger
from bench.capture import Capture
from bench.costs import Side
from bench.fill import put, served_table
from bench.operations import schedule
from bench.stage import TABLE, invoke_as_deployed
from ledger.domain.grants import Grant
from ledger.store import table as ledger_table
from ledger.store.grants import grant_item
from ledger.store.holds import hold_expiry_item

DUE = 10  # grants that expire together for the sweep row


@dataclass(frozen=True)
class AccountSize:
    holds: int
    grants: int  # live grants
    used_up: int  # grants used up over the account's life

    @property
    def label(self) -> str:
        return f"{self.holds:,} holds, {self.grants:,} live grants, {self.used_up:,} used up"


@dataclass
class SizeRow:
    size: AccountSize
    account_item_bytes: int  # the account item once set up
    sides: dict[str, Side]  # operation → its DynamoDB figures
    sweep_items_per_due_grant: float


def _grow(db: Any, account: str, size: AccountSize, now: datetime) -> None:
    """Write the account's holds, live grants and used-up history directly, and add them to its figures."""
    pk, at = ledger_table.account_pk(account), int(now.timestamp())
    items: list[dict[str, Any]] = []
    for n in range(size.holds):
        hold_id, expires = f"hold_{n:024x}", at + 86_400 + n
        items.append(
            {
                "pk": pk,
                "sk": ledger_table.hold_sk(hold_id),
                "hold_id": hold_id,
                "account_id": account,
                "amount": 1,
                "expires_at": expires,
                "status": "open",
                "created_at": "2026-01-01T00:00:00.000Z",
                "request_hash": "x" * 64,
            }
        )
        items.append(hold_expiry_item(account, hold_id, 1, expires))
    for n in range(size.grants):
        grant = Grant(f"grt_{n:024x}", 100, 100, "purchase", 100, at * 1000, at + 30 * 86_400 + n * 3_600)
        items.append(grant_item(account, grant))
    for n in range(size.used_up):
        for offset, kind, amount in ((1, "purchase", 100), (2, "consumption", -100)):
            seq = 2 * n + offset + 1
            entry = {"id": f"ent_{seq:024x}", "type": kind, "amount": amount, "balance_after": 0, "seq": seq}
            items.append({"pk": pk, "sk": ledger_table.entry_sk(seq), "created_at": "2026-01-01", **entry})
    put(db, (ledger_table.to_item(i) for i in items))
    credits, held = 100 * size.grants, size.holds
    added = credits + 100 * size.used_up
    db.update_item(
        TableName=TABLE,
        Key=ledger_table.to_item({"pk": pk, "sk": ledger_table.ACCOUNT_SK}),
        UpdateExpression=(
            "ADD balance :c, held :h, spendable :s, lifetime_added :a, lifetime_spent :u, grant_items :g,"
            " arrived :g, seq :q"
        ),
        ExpressionAttributeValues=ledger_table.to_item(
            {
                ":c": credits,
                ":h": held,
                ":s": credits - held,
                ":a": added,
                ":u": added - credits,
                ":g": size.grants,
                ":q": 2 * size.used_up,
            }
        ),
    )


def _operations(account: str, now: datetime) -> list[tuple[str, Callable[[], Any]]]:
    hold: dict[str, str] = {}

    def place(key: str) -> Callable[[], Any]:
        def run() -> Any:
            placed, _ = ledger.place_hold(account, 10, key, now=now)
            hold[key] = placed.hold_id
            return placed

        return run

    return [
        ("debit", lambda: ledger.debit(account, 5, "render", "bench-debit", now=now)),
        ("hold", place("bench-hold-1")),
        ("capture", lambda: ledger.capture_hold(account, hold["bench-hold-1"], 6, now=now)),
        ("hold, to release", place("bench-hold-2")),
        ("release", lambda: ledger.release_hold(account, hold["bench-hold-2"], now=now)),
        ("grant", lambda: ledger.grant(account, 500, "purchase", "bench-grant", now=now)),
        (
            "grant expiring (with reminders)",
            lambda: ledger.grant(
                account, 500, "promotional", "bench-grant-2", expires_at=now + timedelta(days=60), now=now
            ),
        ),
        ("balance card", lambda: ledger.balance_card(account, now=now)),
        ("history page", lambda: ledger.history(account, limit=50)),
    ]


def _account_bytes(db: Any, account: str) -> int:
    from bench.sizes import item_size

    key = ledger_table.to_item({"pk": ledger_table.account_pk(account), "sk": ledger_table.ACCOUNT_SK})
    return item_size(db.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"])


def measure(sizes: list[AccountSize], progress: Callable[[str], None] = lambda _: None) -> list[SizeRow]:
    rows = []
    now = datetime.now(UTC).replace(microsecond=0)
    with served_table() as db:
        capture = Capture(ledger_table.client(), side=db)
        for n, size in enumerate(sizes):
            progress(f"operations on an account with {size.label}")
            account = f"sized-{n}"
            ledger.grant(account, 10_000, "purchase", "first", now=now)
            _grow(db, account, size, now)
            item_bytes = _account_bytes(db, account)
            sides = {}
            for name, operation in _operations(account, now):
                with capture.active():
                    operation()
                sides[name] = Side.of(capture.take())
            soon = now + timedelta(minutes=1)
            for d in range(DUE):
                ledger.grant(account, 7, "promotional", f"due-{d}", expires_at=soon, now=now)
            with capture.active():
                report = invoke_as_deployed("expiry_sweep", schedule(soon + timedelta(minutes=1)))
            swept = Side.of(capture.take())
            if report["accounts"] < 1 or report["expired"] != 7 * DUE or report["failed"]:
                raise RuntimeError(f"the sweep of {size.label} did other work than measured: {report}")
            sides["sweep"] = swept
            rows.append(SizeRow(size, item_bytes, sides, swept.items_read / DUE))
    return rows

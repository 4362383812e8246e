"""Reads against history length: the balance card and a history page of an account with few and with many
entries. Entries beyond the first few real ones are copies of a real entry item written with
BatchWriteItem, each under its own sequence number, so the large account takes seconds to set up."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.costs import Side
from bench.fill import put
from bench.operations import with_history
from bench.stage import TABLE, Stage, stage
from devkit.http import http_event, owner
from ledger.store.schema import account_pk, entry_sk

READS = {
    "balance card": ("balance", "/accounts/{account_id}/balance"),
    "history page (50)": ("transactions", "/accounts/{account_id}/transactions"),
}


@dataclass
class ScalingRow:
    read: str
    entries: int
    side: Side
    returned: int


def _fill(stage: Stage, account: str, entries: int) -> None:
    """Bring the account's history to ``entries`` entries by copying its newest real entry."""
    stage.settle()
    pk = account_pk(account)
    found = stage.db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":e": {"S": "E#"}},
        ConsistentRead=True,
    )["Items"]
    model, have = found[0], len(found)
    put(
        stage.db,
        (
            {**model, "sk": {"S": entry_sk(seq)}, "seq": {"N": str(seq)}, "id": {"S": f"ent_copy{seq}"}}
            for seq in range(have + 1, entries + 1)
        ),
    )


def measure(sizes: list[int]) -> list[ScalingRow]:
    rows = []
    with stage() as s:
        for entries in sizes:
            account = f"history-{entries}"
            with_history(account)
            _fill(s, account, entries)
            for read, (function, route) in READS.items():
                event = http_event("GET", route, {"account_id": account}, claims=owner(account))
                done = s.run(function, event)
                if done.status != 200:
                    raise RuntimeError(f"{read} of {account}: {done.status} {done.body}")
                body = done.body["body"]
                answer = json.loads(body)
                returned = len(answer.get("items", answer.get("recent_transactions", [])))
                rows.append(ScalingRow(read, entries, Side.of(done.calls), returned))
    return rows

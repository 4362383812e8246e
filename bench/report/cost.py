"""Cost per operation (with the prices and how the units are counted) and what one account sustains, computed
from it."""

from __future__ import annotations

from typing import Any

from bench import prices
from bench.bill import FULL_VCPU_MB, POLLER_REQUESTS, ROUND_TRIP_MS, Bill, sqs_requests
from bench.costs import Row
from bench.functions import memory_mb
from bench.hot_account import PARTITION_WCU_PER_SECOND
from bench.report.markdown import section, table, units, usd

BATCH_ROW = "usage batch (100 events, one account)"
BATCH_SIZE = 100


def _limits(partition: float, item: float, index: float) -> dict[str, Any]:
    """Per event: WCU on the account's partition, on its account item and on the hottest index partition
    (the journal's ``by_type`` entries of one account and type); the rate each allows and the least."""
    rates = {
        "partition": PARTITION_WCU_PER_SECOND / partition if partition else float("inf"),
        "account_item": PARTITION_WCU_PER_SECOND / item if item else float("inf"),
        "type_index": PARTITION_WCU_PER_SECOND / index if index else float("inf"),
    }
    return {
        "partition_wcu": partition,
        "account_item_wcu": item,
        "type_index_wcu": index,
        "per_second": {k: int(v) for k, v in rates.items()},
        "sustained": int(min(rates.values())),
    }


def ceiling(rows: list[Row]) -> dict[str, Any]:
    debit = next(r for r in rows if r.name == "debit")
    out = {
        "debit": _limits(
            debit.partition_write_units, debit.account_item_write_units, debit.journal.index_write_units
        )
    }
    batch = next((r for r in rows if r.name == BATCH_ROW), None)
    if batch is not None:
        out["batched_event"] = _limits(
            batch.partition_write_units / BATCH_SIZE,
            batch.account_item_write_units / BATCH_SIZE,
            batch.journal.index_write_units / BATCH_SIZE,
        )
    return out


def cost_section(rows: list[Row], bills: dict[str, Bill]) -> list[str]:
    return section(
        "Cost per operation",
        "Each operation ran once through its function against DynamoDB, EventBridge and SQS (moto) and Stripe"
        " (localstripe; the fake of Checkout and the billing portal, which localstripe lacks), its requests"
        " captured with botocore's `before-call`/`after-call` hooks; then the table's stream functions ran over"
        " the stream records it made, each given only the records its trigger's filters let through: the journal"
        " (account items) and the notifications publisher (account items and outbox items), which publishes on"
        " EventBridge. RCU/WCU are DynamoDB's documented rules applied to the real items (see *How the units are"
        " counted*); WCU includes index writes and the journal's writes; dollars are per **1 million**"
        " operations.",
        table(
            [
                "Operation",
                "Round trips",
                "Requests",
                "Items read",
                "Items written",
                "RCU",
                "WCU",
                "Journal: round trips / items / WCU",
                "EventBridge: PutEvents / events",
                "Lambda invocations",
                "Stripe round trips",
                "SQS requests",
                "DynamoDB $",
                "Lambda $",
                "HTTP API $",
                "EventBridge $",
                "SQS $",
                "Total $ / 1M",
                "Note",
            ],
            [_cost_row(row, bills[row.name]) for row in rows],
        ),
        "### Prices",
        f"Region {prices.REGION}, on-demand, taken on {prices.TAKEN_ON}; free tiers left out.",
        table(
            ["Item", "USD", "Per", "Source"],
            [
                [p.what, f"{p.usd:.10f}".rstrip("0").rstrip("."), f"{p.per:,.0f}", p.source]
                for p in prices.ALL
            ],
        ),
        "### How the units are counted",
        _how_counted(),
    )


def _cost_row(row: Row, b: Bill) -> list[Any]:
    own = row.own
    return [
        row.name,
        own.round_trips,
        own.requests or "—",
        own.items_read,
        own.items_written,
        units(own.read_units),
        own.write_units + own.index_write_units,
        f"{row.journal.round_trips} / {row.journal.items_written} / {row.journal.write_units}",
        f"{row.published.put_events} / {row.published.events}",
        row.lambda_invocations,
        row.stripe_round_trips,
        sqs_requests(row),
        usd(b.dynamodb),
        usd(b.lambda_),
        usd(b.http_api),
        usd(b.eventbridge),
        usd(b.sqs),
        usd(b.total),
        row.note,
    ]


def _how_counted() -> list[str]:
    return [
        "- Item size = UTF-8 bytes of every attribute name plus its value; numbers 1 byte per 2 significant digits"
        " + 1; lists and maps 3 bytes + 1 per element (Developer Guide, *DynamoDB item sizes and formats*).",
        "- A write costs 1 WCU per started KB of the **larger of the item before and after** the write; the"
        " capture reads the item with a second, uncaptured client just before and just after each update,"
        " and takes a put's new item from the request. Transactional writes cost double.",
        "- A read costs 1 RCU per started 4 KB of all items read by the request (strongly consistent), half when"
        " eventually consistent (history pages and usage are; the balance card and every GetItem are strongly"
        " consistent). A GetItem with a projection is charged for the whole item, sized the same way.",
        "- An index costs one standard write of its entry when an item enters or leaves it, two when its key"
        " changes, one when an attribute it projects changes, none otherwise: the `due` index projects keys only;"
        " the `top_up` index (auto top-up items) projects every attribute, so every write to an enabled"
        " account's auto top-up item writes it too. BatchGetItem is charged per item, whole whatever the"
        " projection.",
        "- A refused (cancelled) transaction is counted as charging each item it names at its current size,"
        " transactionally: an upper bound, since DynamoDB returns no consumed capacity for cancelled"
        " transactions.",
        "- Lambda invocations: the function's own, plus one of each stream function (journal, notifications)"
        " that the operation's records reach, the records of one operation counted as one batch (Lambda waits up"
        " to 1 s to batch them); the worst case at low traffic, since under load Lambda hands each function"
        " batches of up to 100 records. Records a trigger's filters drop cost nothing. Stream reads by a Lambda"
        " trigger are free.",
        "- EventBridge: each event published on the custom bus is billed per started 64 KB (every notification"
        " is far smaller: 1 event); delivery to targets in the same account is not billed. The publisher's rows"
        " are one record in one invocation, the worst case; a batch of records shares the invocation.",
        "- HTTP API requests are counted for the functions behind the API (the Stripe webhook included), not for"
        " the scheduled sweep or the stream functions. The sweep's schedule (an EventBridge rule) fires once per"
        " run, whatever is due, and is not counted per grant.",
        f"- Lambda duration is an estimate: the warm invocation time measured below x {FULL_VCPU_MB} MB ÷ the"
        f" function's memory ({memory_mb('debit')} MB for every function now, arm64) + {ROUND_TRIP_MS:g} ms per"
        " DynamoDB or EventBridge round trip; the journal and the notifications function take their warm times"
        " measured below (the publisher's slowest record). It is a small part of the total.",
        "- Stripe round trips are the function's requests to Stripe, counted by a recording proxy in front of"
        " localstripe; they are not DynamoDB round trips and not in the dollars (Stripe's fees are its own)."
        " Lambda's duration estimate leaves out Stripe's latency.",
        "- SQS requests: a top-up request the notifications function sends (SendMessage, one per crossing), and for"
        f" a function the auto top-up queue invokes, {POLLER_REQUESTS} by Lambda's poller (the ReceiveMessage that"
        " got the message, the DeleteMessage after it) with one message per batch, the worst case. Empty receives"
        " of an idle queue are a fixed cost per queue, not per operation, and are left out.",
        "- The journal's figures include the marker that tells reconciliation the account changed (one PutItem,"
        " 1 WCU, on a `CHANGED#<day>#<shard>` partition): counted on every operation here, the worst case, while a"
        " warm journal writes it once per account and day.",
        "- Purchases are measured on the Checkout path (a PaymentIntent purchase was not measured); Stripe's own"
        " fees and calls are not in these dollars.",
    ]


def hot_section(rows: list[Row], bills: dict[str, Bill]) -> list[str]:
    """What one account sustains, from the measured writes of a debit and of a batched usage event."""
    names = {"debit": "single debit", "batched_event": f"batched usage event ({BATCH_SIZE} per batch)"}
    body = []
    for key, limits in ceiling(rows).items():
        batch = next(row for row in rows if row.name == (BATCH_ROW if key != "debit" else "debit"))
        per_million = bills[batch.name].total / (BATCH_SIZE if key != "debit" else 1)
        body.append(
            [
                names[key],
                f"{limits['partition_wcu']:.2f}",
                f"{limits['account_item_wcu']:.2f}",
                f"{limits['type_index_wcu']:.2f}",
                f"{limits['per_second']['partition']:,}",
                f"{limits['per_second']['account_item']:,}",
                f"{limits['per_second']['type_index']:,}",
                f"**{limits['sustained']:,}**",
                usd(per_million),
            ]
        )
    return section(
        "Hot account",
        "What one account sustains, computed from each operation's measured writes against DynamoDB's limits"
        f" ({PARTITION_WCU_PER_SECOND:,} WCU/s per partition and per item; an index partition has the same limit,"
        " and a throttled index throttles the table's writes). Every write of a debit lands on the account's"
        " partition (`pk = ACCOUNT#<id>`): the account update and the idempotency records (transactional), the"
        " batch item of a batch, then the journal's entries, record updates and rollup; entries have a"
        " sequential sort key, so DynamoDB never splits that partition for heat. The journal's entries also"
        " write the `by_type` index, whose partition is the account and the entry's type.",
        table(
            [
                "Per",
                "WCU on the account's partition",
                "WCU on the account item",
                "WCU on the by_type index partition",
                "/s by the partition",
                "/s by the item",
                "/s by the index",
                "Sustained /s",
                "$ / 1M",
            ],
            body,
        ),
    )

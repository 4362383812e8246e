"""results.md and results.json from one run."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import prices
from bench.account_size import DUE, SizeRow
from bench.bill import FULL_VCPU_MB, POLLER_REQUESTS, ROUND_TRIP_MS, Bill, sqs_requests
from bench.contention import Contention
from bench.costs import Row, Side
from bench.export_size import ExportRow
from bench.functions import memory_mb
from bench.hot_account import PARTITION_WCU_PER_SECOND, TRIGGER_BATCH, HotRow
from bench.reconcile_scaling import PaymentsRow, ReconcileRow
from bench.safety_net_scaling import NetRow
from bench.scaling import ScalingRow
from bench.sweep_scaling import SweepRow
from bench.timing import BASELINE, ColdStart, WarmOverhead
from ledger.journal import MAX_POSTED_CHANGES
from ledger.store import entries as entry_store

SWEEP_TARGET = 1.2  # sweep items read per due grant


@dataclass
class Results:
    mode: str
    rows: list[Row]
    bills: dict[str, Bill]
    cold: list[ColdStart]
    warm: list[WarmOverhead]
    scaling: list[ScalingRow]
    sweep: list[SweepRow]
    safety_net: list[NetRow]
    contention: Contention
    account_size: list[SizeRow] = field(default_factory=list)
    reconcile: list[ReconcileRow] = field(default_factory=list)
    reconcile_payments: PaymentsRow | None = None
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def _usd(x: float) -> str:
    return f"{x:,.2f}"


def _units(x: float) -> str:
    return f"{x:g}"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _mark(met: bool) -> str:
    return "met" if met else "**missed**"


BATCH_ROW = "usage batch (100 events, one account)"
BATCH_SIZE = 100
HOT_DEBITS_TARGET = 2500  # single debits/s one account sustains
HOT_EVENTS_TARGET = 25000  # batched usage events/s
BATCH_ROUND_TRIPS_TARGET = 0.05  # per event
BATCH_WCU_TARGET = 3  # per event


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


def _batch_targets(r: Results) -> list[list[str]]:
    batch = next((row for row in r.rows if row.name == BATCH_ROW), None)
    if batch is None:
        return []
    trips = batch.own.round_trips / BATCH_SIZE
    wcu = (batch.own.write_units + batch.own.index_write_units) / BATCH_SIZE
    c = ceiling(r.rows)
    return [
        [
            f"usage batch: ≤ {BATCH_ROUND_TRIPS_TARGET:g} round trips per event",
            f"{trips:.2f} ({batch.own.round_trips} for {BATCH_SIZE} events: {batch.own.requests})",
            _mark(trips <= BATCH_ROUND_TRIPS_TARGET),
        ],
        [
            f"usage batch: ≤ {BATCH_WCU_TARGET} WCU per event",
            f"{wcu:.2f} (+{(batch.journal.write_units + batch.journal.index_write_units) / BATCH_SIZE:.2f} by the"
            " journal)",
            _mark(wcu <= BATCH_WCU_TARGET),
        ],
        [
            f'one account, not hot: ≥ {HOT_DEBITS_TARGET:,} single debits/s (hot: "Hot account, measured")',
            f"{c['debit']['sustained']:,}/s",
            _mark(c["debit"]["sustained"] >= HOT_DEBITS_TARGET),
        ],
        [
            f'one account, not hot: ≥ {HOT_EVENTS_TARGET:,} batched usage events/s (hot: "Hot account, measured")',
            f"{c['batched_event']['sustained']:,}/s",
            _mark(c["batched_event"]["sustained"] >= HOT_EVENTS_TARGET),
        ],
    ]


def _hot_section(r: Results) -> list[str]:
    c = ceiling(r.rows)
    names = {"debit": "single debit", "batched_event": f"batched usage event ({BATCH_SIZE} per batch)"}
    rows = []
    for key, limits in c.items():
        batch = next(row for row in r.rows if row.name == (BATCH_ROW if key != "debit" else "debit"))
        per_million = r.bills[batch.name].total / (BATCH_SIZE if key != "debit" else 1)
        rows.append(
            [
                names[key],
                f"{limits['partition_wcu']:.2f}",
                f"{limits['account_item_wcu']:.2f}",
                f"{limits['type_index_wcu']:.2f}",
                f"{limits['per_second']['partition']:,}",
                f"{limits['per_second']['account_item']:,}",
                f"{limits['per_second']['type_index']:,}",
                f"**{limits['sustained']:,}**",
                _usd(per_million),
            ]
        )
    return [
        "## Hot account",
        "",
        "What one account sustains, computed from each operation's measured writes against DynamoDB's limits"
        f" ({PARTITION_WCU_PER_SECOND:,} WCU/s per partition and per item; an index partition has the same limit,"
        " and a throttled index throttles the table's writes). Every write of a debit lands on the account's"
        " partition (`pk = ACCOUNT#<id>`): the account update and the idempotency records (transactional), the"
        " batch item of a batch, then the journal's entries, record updates and rollup; entries have a"
        " sequential sort key, so DynamoDB never splits that partition for heat. The journal's entries also"
        " write the `by_type` index, whose partition is the account and the entry's type.",
        "",
        *_table(
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
            rows,
        ),
        "",
    ]


def _cost_section(r: Results) -> list[str]:
    out = [
        "## Cost per operation",
        "",
        "Each operation ran once through its function against DynamoDB, EventBridge and SQS (moto) and Stripe"
        " (localstripe; the fake of Checkout and the billing portal, which localstripe lacks), its requests"
        " captured with botocore's `before-call`/`after-call` hooks; then the table's stream functions ran over"
        " the stream records it made, each given only the records its trigger's filters let through: the journal"
        " (account items) and the notifications publisher (account items and outbox items), which publishes on"
        " EventBridge. RCU/WCU are DynamoDB's documented rules applied to the real items (see *How the units are"
        " counted*); WCU includes index writes and the journal's writes; dollars are per **1 million**"
        " operations.",
        "",
    ]
    header = [
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
    ]
    body = []
    for row in r.rows:
        b = r.bills[row.name]
        own = row.own
        body.append(
            [
                row.name,
                own.round_trips,
                own.requests or "—",
                own.items_read,
                own.items_written,
                _units(own.read_units),
                own.write_units + own.index_write_units,
                f"{row.journal.round_trips} / {row.journal.items_written} / {row.journal.write_units}",
                f"{row.published.put_events} / {row.published.events}",
                row.lambda_invocations,
                row.stripe_round_trips,
                sqs_requests(row),
                _usd(b.dynamodb),
                _usd(b.lambda_),
                _usd(b.http_api),
                _usd(b.eventbridge),
                _usd(b.sqs),
                _usd(b.total),
                row.note,
            ]
        )
    out += _table(header, body)
    out += [
        "",
        "### Prices",
        "",
        f"Region {prices.REGION}, on-demand, taken on {prices.TAKEN_ON}; free tiers left out.",
        "",
    ]
    out += _table(
        ["Item", "USD", "Per", "Source"],
        [[p.what, f"{p.usd:.10f}".rstrip("0").rstrip("."), f"{p.per:,.0f}", p.source] for p in prices.ALL],
    )
    out += [
        "",
        "### How the units are counted",
        "",
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
        "",
    ]
    out += _hot_section(r)
    return out


def _targets(r: Results) -> list[str]:
    debit = next(row for row in r.rows if row.name == "debit")
    by = {(s.read, s.entries): s for s in r.scaling}
    sizes = sorted({s.entries for s in r.scaling})
    lines = []
    for read in ("balance card", "history page (50)"):
        small, large = by[(read, sizes[0])].side, by[(read, sizes[-1])].side
        flat = small.round_trips == large.round_trips == 1 and large.items_read <= max(small.items_read, 50)
        lines.append(
            [
                f"{read}: 1 round trip, flat in history length",
                f"{large.round_trips} round trip; {small.items_read} → {large.items_read} items read"
                f" ({sizes[0]:,} → {sizes[-1]:,} entries)",
                _mark(flat),
            ]
        )
    cold = [c for c in r.cold if c.function != BASELINE]
    warm_missed = [w.scenario for w in r.warm if not w.met]
    rows = [
        [
            "debit: 1 round trip",
            f"{debit.own.round_trips} ({debit.own.requests})",
            _mark(debit.own.round_trips == 1),
        ],
        [
            "debit: ≤ 4 WCU",
            f"{debit.own.write_units} (+{debit.journal.write_units} by the journal)",
            _mark(debit.own.write_units <= 4),
        ],
        *lines,
        [
            "cold start ≤ 1.3 x baseline (≤ 1.6 x with stripe)",
            ", ".join(f"{c.function} {c.ratio:.2f}x" for c in cold if not c.met) or "every function",
            _mark(all(c.met for c in cold)),
        ],
        [
            "warm overhead ≤ 2 x minimal handler",
            ", ".join(warm_missed) or "every operation",
            _mark(not warm_missed),
        ],
        *_batch_targets(r),
        *_sweep_targets(r.sweep),
        _safety_net_target(r.safety_net),
    ]
    return ["## Targets", "", *_table(["Target", "Measured (misses listed)", ""], rows), ""]


def _sweep_targets(rows: list[SweepRow]) -> list[list[str]]:
    small, large = rows[0], rows[-1]
    flat = len({(s.side.round_trips, s.side.items_read) for s in rows}) == 1
    worst = max(s.per_due_grant for s in rows)
    index = max(s.index_items / s.due for s in rows)
    return [
        [
            f"sweep items read ≤ {SWEEP_TARGET:g} x due grants",
            f"{worst:.2f} x: {large.index_items} index entries + {large.grant_items} grant items +"
            f" {large.account_items} account items for {large.due} due grants ({index:.2f} x from the index alone)",
            _mark(worst <= SWEEP_TARGET),
        ],
        [
            "sweep flat in table size",
            f"{small.side.items_read} → {large.side.items_read} items read, {small.side.round_trips} →"
            f" {large.side.round_trips} round trips ({small.accounts:,} → {large.accounts:,} accounts)",
            _mark(flat),
        ],
    ]


def _safety_net_target(rows: list[NetRow]) -> list[str]:
    """The safety net's look costs the same per account with auto top-up on, whatever else the table holds."""
    per = {(round(n.items_per_enabled, 4), n.read_units_per_enabled) for n in rows}
    same_enabled = [(a, b) for a in rows for b in rows if a.enabled == b.enabled and a.accounts < b.accounts]
    flat = len(per) == 1 and all(
        (a.look.round_trips, a.look.items_read) == (b.look.round_trips, b.look.items_read)
        for a, b in same_enabled
    )
    first, last = rows[0], rows[-1]
    return [
        "auto top-up safety net flat in table size (per account with auto top-up on)",
        f"{first.items_per_enabled:.2f} → {last.items_per_enabled:.2f} items and"
        f" {_units(first.read_units_per_enabled)} → {_units(last.read_units_per_enabled)} RCU read per enabled"
        f" account ({first.enabled:,} of {first.accounts:,} → {last.enabled:,} of {last.accounts:,} accounts)",
        _mark(flat),
    ]


def _timing_sections(r: Results) -> list[str]:
    out = [
        "## Cold start",
        "",
        f"Fresh interpreters, each importing the handler module and serving one invocation with AWS and Stripe"
        f" answered by a local HTTP endpoint (recorded DynamoDB and EventBridge answers); {r.cold[0].runs} runs per function,"
        " functions taken in turn. Medians (this 2-core machine may have had other work running); the"
        " interpreter's own start is not included.",
        "",
    ]
    out += _table(
        ["Function", "Invocation", "Median ms", "of which import", "x baseline", "Target", ""],
        [
            [
                c.function,
                c.scenario or "—",
                f"{c.median_ms:.0f}",
                f"{c.import_ms:.0f}",
                f"{c.ratio:.2f}",
                f"≤ {c.target:g}x" if c.function != BASELINE else "",
                _mark(c.met) if c.function != BASELINE else "",
            ]
            for c in r.cold
        ],
    )
    out += [
        "",
        "## Warm overhead",
        "",
        f"One interpreter per operation, {r.warm[0].invocations if r.warm else 0} invocations each of the real"
        " handler and of a minimal hand-written handler making the same DynamoDB and EventBridge requests"
        " (recorded from the real one), alternately, against the same local endpoint. Medians per invocation."
        " An operation that makes no AWS request (packages; the publisher given a record with nothing to"
        " announce) is compared with a handler that does nothing: its ratio is the routing and parsing alone,"
        " against nothing.",
        "",
    ]
    out += _table(
        ["Operation", "Function", "AWS requests", "Median ms", "Minimal ms", "Ratio", "≤ 2x"],
        [
            [
                w.scenario,
                w.function,
                w.requests,
                f"{w.median_ms:.2f}",
                f"{w.minimal_ms:.2f}",
                f"{w.ratio:.2f}",
                _mark(w.met),
            ]
            for w in r.warm
        ],
    )
    return out


def _scaling_section(r: Results) -> list[str]:
    out = [
        "",
        "## Scaling with history length",
        "",
        "The same account read with few and with many entries (extra entries written directly with"
        " BatchWriteItem).",
        "",
    ]
    out += _table(
        ["Read", "Entries", "Round trips", "Items read", "RCU", "Entries returned"],
        [
            [
                s.read,
                f"{s.entries:,}",
                s.side.round_trips,
                s.side.items_read,
                _units(s.side.read_units),
                s.returned,
            ]
            for s in r.scaling
        ],
    )
    out += _sweep_section(r.sweep)
    out += _safety_net_section(r.safety_net)
    return out


def _sweep_section(rows: list[SweepRow]) -> list[str]:
    due = rows[0].due
    out = [
        "",
        "## Expiry sweep against table size",
        "",
        f"One run of the sweep function over tables of {', '.join(f'{s.accounts:,}' for s in rows)} accounts,"
        f" {due} of them with a grant expired an"
        " hour ago, every other one with a grant expiring in 90 days (so every account is in the sparse `due`"
        " index). The accounts are copies of account items the real code wrote, put with BatchWriteItem into a"
        " single-threaded moto server; only the sweep's requests are counted.",
        "",
    ]
    out += _table(
        [
            "Accounts",
            "Due grants",
            "Round trips",
            "Requests",
            "Index entries read",
            "Grant items read",
            "Account items read",
            "Items read per due grant",
            "RCU",
            "WCU",
            "Settled",
        ],
        [
            [
                f"{s.accounts:,}",
                s.due,
                s.side.round_trips,
                s.side.requests,
                s.index_items,
                s.grant_items,
                s.account_items,
                f"{s.per_due_grant:.2f}",
                _units(s.side.read_units),
                s.side.write_units + s.side.index_write_units,
                s.settled,
            ]
            for s in rows
        ],
    )
    out += [
        "",
        "The Query on the `due` index reads exactly the due entries, whatever the table holds. Each due account is"
        " then read once more (a strongly consistent GetItem: the index is eventually consistent and keys-only),"
        " and its settlement reads its grants in burn order up to the first one that survives (the due grant and"
        " the next one): with one due grant per account that is 4 items read per due grant. Grants of one account"
        " that fall due together share the index entry, the account and the survivor (10 together: 1.4 to 1.5"
        " items per due grant, in the cost against account size).",
        "",
    ]
    return out


# operation → (what is checked, limit, the figure of a Side)
SIZE_TARGETS: dict[str, list[tuple[str, float, Callable[[Side], float]]]] = {
    "debit": [("WCU", 4, lambda s: s.write_units), ("RCU", 1, lambda s: s.read_units)],
    "hold": [("WCU", 6, lambda s: s.write_units)],
    "capture": [("WCU", 6, lambda s: s.write_units)],
    "release": [("WCU", 6, lambda s: s.write_units)],
    "grant": [("WCU", 6, lambda s: s.write_units)],
    "balance card": [("round trips", 2, lambda s: s.round_trips), ("RCU", 4, lambda s: s.read_units)],
}


def _account_size_section(rows: list[SizeRow]) -> list[str]:
    if not rows:
        return []
    names = list(rows[0].sides)
    out = [
        "",
        "## Cost against account size",
        "",
        "Each operation through the real code on accounts that lived long: open holds, live grants and the"
        " history of used-up grants written directly as the ledger lays them out (bench/account_size.py), one"
        " operation after the other on the same account, against a single-threaded moto server. Each cell:"
        " round trips / WCU / RCU. The sweep row: the scheduled sweep settling"
        f" {DUE} grants of the account that expired together.",
        "",
    ]
    out += _table(
        ["Operation", *(r.size.label for r in rows)],
        [
            [
                name,
                *(
                    f"{r.sides[name].round_trips} / {r.sides[name].write_units} / {_units(r.sides[name].read_units)}"
                    for r in rows
                ),
            ]
            for name in names
        ]
        + [["account item (bytes)", *(f"{r.account_item_bytes:,}" for r in rows)]]
        + [["sweep: items read per due grant", *(f"{r.sweep_items_per_due_grant:.2f}" for r in rows)]],
    )
    checks = []
    for name, targets in SIZE_TARGETS.items():
        for what, limit, figure in targets:
            worst = max(figure(r.sides[name]) for r in rows)
            checks.append([name, f"{what} ≤ {limit:g}", _units(worst), _mark(worst <= limit)])
    worst_sweep = max(r.sweep_items_per_due_grant for r in rows)
    checks.append(
        [
            "sweep",
            f"items read per due grant ≤ {SWEEP_TARGET}",
            f"{worst_sweep:.2f}",
            _mark(worst_sweep <= SWEEP_TARGET),
        ]
    )
    out += ["", "Targets, each at every size (the worst size shown):", ""]
    out += _table(["Operation", "Target", "Worst", ""], checks)
    out += [
        "",
        "The account item holds no per-grant or per-hold state, so its size, and with it what a debit, hold,"
        " capture or release costs, is the same at every size. A grant with an expiry also writes one reminder"
        " item per reminder day ahead (2 WCU each in the transaction).",
        "",
    ]
    return out


def _safety_net_section(rows: list[NetRow]) -> list[str]:
    out = [
        "",
        "## Auto top-up safety net against table size",
        "",
        "One scheduled run of the auto top-up function's safety net over tables where some accounts have auto"
        " top-up on, 1% of those below their threshold, and the rest of the accounts have it off. The accounts"
        " are copies of the items the real code wrote, put with BatchWriteItem into a single-threaded moto"
        " server; Stripe is localstripe. *Look*: the safety net's pages of the sparse `top_up` index and the"
        " BatchGetItem of their accounts' figures; *start*: the top-ups it started (reads, claim, outcome), with"
        " their Stripe round trips.",
        "",
    ]
    out += _table(
        [
            "Accounts",
            "Auto top-up on",
            "Below threshold",
            "Look: round trips",
            "Look: index entries + account items read",
            "Look: RCU",
            "Items read per enabled account",
            "RCU per enabled account",
            "Started",
            "Start: DynamoDB round trips / WCU",
            "Start: Stripe round trips",
        ],
        [
            [
                f"{n.accounts:,}",
                f"{n.enabled:,}",
                n.below,
                f"{n.look.round_trips} ({n.look.requests})",
                f"{n.index_items:,} + {n.account_items:,}",
                _units(n.look.read_units),
                f"{n.items_per_enabled:.2f}",
                f"{n.read_units_per_enabled:.4g}",
                n.started,
                f"{n.start.round_trips} / {n.start.write_units + n.start.index_write_units}",
                n.stripe_round_trips,
            ]
            for n in rows
        ],
    )
    out += [
        "",
        "Every account with auto top-up on is in the `top_up` index while idle (it must be looked at: a lost"
        " stream batch leaves no other trace), so the look grows with the accounts that have auto top-up on and"
        " not with the table: accounts with it off are not in the index and cost nothing. The BatchGetItem reads"
        " only the few figures the rules need, but is charged for each whole account item.",
        "",
    ]
    return out


def _contention_section(r: Results) -> list[str]:
    c = r.contention
    return [
        "## Contention",
        "",
        f"{c.threads} threads debiting one account ({c.debits} debits of 1-20 credits, {c.granted:,} credits"
        " granted) through the library against a single-threaded moto server, each request atomic as in"
        " DynamoDB. Correctness, not speed.",
        "",
        *_table(
            [
                "Accepted",
                "Refused (402)",
                "Transactions",
                "Cancelled",
                "Retried internally",
                "Conflicts",
                "Lowest available seen",
                "Final balance",
                "Overdrafts",
            ],
            [
                [
                    c.accepted,
                    c.refused,
                    c.transactions,
                    c.cancelled,
                    c.retried,
                    c.conflicts,
                    c.min_available,
                    c.final_balance,
                    f"**{c.overdrafts}**",
                ]
            ],
        ),
        "",
        "Overdrafts are checked against the final state: the balance must equal the grant minus every accepted"
        " debit, never below the floor (0). A serial server never reports `TransactionConflict`; DynamoDB"
        " would under this load, and the ledger retries those with backoff (counted under *Retried*).",
        "",
    ]


def _reconcile_section(rows: list[ReconcileRow], payments: PaymentsRow | None) -> list[str]:
    if not rows:
        return []
    out = [
        "## Reconciliation against table size",
        "",
        "One scheduled run over tables of growing size, the same number of accounts changed in each (each a"
        " copy of an account"
        f" the real code wrote: a grant, debits, a hold, {rows[0].entries_per_account} entries), the rest copies"
        " of an account item alone. *Finding them*: the day's 32 marker partitions and the run's own item;"
        " *first run*: per changed account, its whole history and its grants and holds (no checkpoint yet);"
        " *next run*: the same accounts again, nothing new past their checkpoints. Only the run's own requests"
        " are counted (no Stripe: see below).",
        "",
    ]
    body = []
    for row in rows:
        first, again = row.first, row.again
        body.append(
            [
                f"{row.accounts:,}",
                row.changed,
                f"{row.look.round_trips} / {row.look.items_read}",
                f"{first.round_trips / row.changed:.1f} / {first.items_read / row.changed:.1f} /"
                f" {_units(first.read_units / row.changed)}",
                f"{again.round_trips / row.changed:.1f} / {again.items_read / row.changed:.1f} /"
                f" {_units(again.read_units / row.changed)}",
            ]
        )
    out += _table(
        [
            "Accounts",
            "Changed",
            "Finding them: round trips / items read",
            "First run, per changed account: round trips / items / RCU",
            "Next run, per changed account: round trips / items / RCU",
        ],
        body,
    )
    flat = len({(r.first.round_trips // r.changed, r.again.round_trips // r.changed) for r in rows}) == 1
    out += [
        "",
        f"Per changed account the cost is {'the same at every size' if flat else '**not** the same at every size'}:"
        " the accounts that did not change are never read. Finding the changed accounts costs the 32 marker"
        " partitions of each day since the last run, one page per 1 MB of markers, whatever the table holds.",
        "",
    ]
    if payments is not None:
        out += [
            f"Against Stripe: {payments.payments} purchases paid at localstripe and credited by the webhook,"
            f" reconciled both ways: **{payments.stripe_round_trips} Stripe round trips**"
            f" ({payments.stripe_per_payment:.2f} per payment: the list of the window's PaymentIntents, one"
            " page per 100, and each credited purchase's PaymentIntent; a charge is read apart only when Stripe"
            " gives its id rather than the charge, which localstripe does not, so real Stripe adds up to one per"
            f" payment), and {payments.dynamodb.round_trips} DynamoDB round trips"
            f" ({payments.dynamodb.round_trips / payments.payments:.1f} per payment, {_units(payments.dynamodb.read_units)}"
            " RCU in all: the purchase, its grant entries by type, its refund entries, the account's purchases).",
            "",
        ]
    return out


def write(r: Results, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    head = [
        "# Benchmark results",
        "",
        f"`make bench{'-smoke' if r.mode == 'smoke' else ''}`, {r.started}, Python {platform.python_version()},"
        f" {platform.machine()}. Every number below comes from this one run.",
        "",
    ]
    md = (
        head
        + _targets(r)
        + _cost_section(r)
        + _timing_sections(r)
        + _scaling_section(r)
        + _account_size_section(r.account_size)
        + _reconcile_section(r.reconcile, r.reconcile_payments)
        + _contention_section(r)
    )
    (out / "results.md").write_text("\n".join(md))
    data = {
        "mode": r.mode,
        "started": r.started,
        "operations": [
            {
                **asdict(row),
                "read_units": row.read_units,
                "write_units": row.write_units,
                "usd_per_million": {**asdict(r.bills[row.name]), "total": r.bills[row.name].total},
            }
            for row in r.rows
        ],
        "prices": {
            "region": prices.REGION,
            "taken_on": prices.TAKEN_ON,
            "items": [asdict(p) for p in prices.ALL],
        },
        "hot_account": ceiling(r.rows),
        "cold_start": [{**asdict(c), "met": c.met} for c in r.cold],
        "warm_overhead": [{**asdict(w), "ratio": w.ratio, "met": w.met} for w in r.warm],
        "scaling": [asdict(s) for s in r.scaling],
        "sweep_scaling": [{**asdict(s), "items_read_per_due_grant": s.per_due_grant} for s in r.sweep],
        "safety_net_scaling": [
            {
                **asdict(n),
                "items_read_per_enabled_account": n.items_per_enabled,
                "read_units_per_enabled_account": n.read_units_per_enabled,
            }
            for n in r.safety_net
        ],
        "contention": asdict(r.contention),
        "account_size": [
            {
                "holds": a.size.holds,
                "live_grants": a.size.grants,
                "used_up_grants": a.size.used_up,
                "account_item_bytes": a.account_item_bytes,
                "sweep_items_read_per_due_grant": a.sweep_items_per_due_grant,
                "operations": {name: asdict(side) for name, side in a.sides.items()},
            }
            for a in r.account_size
        ],
        "reconcile_scaling": [asdict(row) for row in r.reconcile],
        "reconcile_payments": asdict(r.reconcile_payments) if r.reconcile_payments else None,
    }
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")


def export_size_section(rows: list[ExportRow], out: Path) -> None:
    """The export's section, added to results.md and (as ``export_size``) to results.json that ``write`` made."""
    whole = [r for r in rows if r.what.startswith("whole")]
    ratio = whole[-1].peak_kib / whole[0].peak_kib if len(whole) > 1 and whole[0].peak_kib else None
    lines = [
        "",
        "## Export against history length",
        "",
        "One account's history (a consumption entry a minute, written directly), exported as CSV with "
        "`ledger.export_entries` (what `credits-admin export` writes from): DynamoDB's figures of eventually "
        "consistent Queries of up to 1,000 entries, and the peak of Python's allocations during the export "
        "(tracemalloc). The window and the balance at a moment run on the largest history.",
        "",
        *_table(
            [
                "What",
                "History",
                "Out",
                "Round trips",
                "Items read",
                "RCU",
                "Peak memory (KiB)",
                "Seconds",
                "Bytes out",
            ],
            [
                [
                    r.what,
                    f"{r.history:,}",
                    f"{r.exported:,}",
                    r.side.round_trips,
                    f"{r.side.items_read:,}",
                    _units(r.side.read_units),
                    f"{r.peak_kib:,.0f}",
                    f"{r.seconds:.1f}",
                    f"{r.bytes_out:,}",
                ]
                for r in rows
            ],
        ),
        "",
    ]
    if ratio is not None:
        lines += [
            f"Peak memory exporting {whole[-1].history:,} entries is {ratio:.2f}x that of {whole[0].history:,} "
            "(the export holds one page of up to 1,000 entries at a time, so past one page the peak no longer "
            "grows with the history).",
            "",
        ]
    _append_section(
        out,
        lines,
        "export_size",
        {"peak_memory_ratio": ratio, "rows": [{**asdict(r), "read_units": r.side.read_units} for r in rows]},
    )


def hot_account_section(rows: list[HotRow], out: Path) -> None:
    """The measured hot account's section, added to results.md and (as ``hot_account_measured``) to
    results.json that ``write`` made."""
    single = next(r for r in rows if r.shards and r.case.startswith("single"))
    batched = next(r for r in rows if r.shards and r.case.startswith("batches"))
    lines = [
        "",
        "## Hot account, measured",
        "",
        "One account, funded, made hot (spend shards, chosen at random) or not, and warmed up (every shard has"
        " borrowed once); the real functions run a series of single debits or batches of 100 usage events on it,"
        " then the journal runs over the stream as its trigger delivers it (batches of up to"
        f" {TRIGGER_BATCH} records of one stream shard, each hot partition key on a stream shard of its own) until"
        " nothing is left. Every write is captured with its key. Per event: the write units on the hottest key"
        " the account keeps writing (its own partition `ACCOUNT#<id>`, its shards `ACCOUNT#<id>#S<k>`), on the"
        " hottest of their items, and on the hottest index partition it keeps writing (`by_type` of the account"
        f" and a type). The account sustains {PARTITION_WCU_PER_SECOND:,} WCU/s divided by the largest of the"
        " three (DynamoDB's limit per partition and per item). Every other key (an idempotency record, a batch"
        " item, a posting, a block of entries `ACCOUNT#<id>#E<n>` and its `by_type` partition) is written a"
        ' bounded number of times in its life; "life WCU" is the most any of them takes in all (a block: per'
        f" entry x {entry_store.BLOCK} entries): under {PARTITION_WCU_PER_SECOND:,} it can never need more than"
        " one second's allowance.",
        "",
        "A run of a hundred debits over 8 shards posts groups of about a dozen writes: each posting (an account"
        " item write, a usage rollup) is then shared by few events. At the target rates every shard's stream"
        f" shard receives hundreds of writes a second, so every trigger batch is full ({TRIGGER_BATCH} shard"
        f" writes, at most {MAX_POSTED_CHANGES:,} changes per posting), and a hundred random choices a second"
        " spread over the shards within a few percent of their share. The last column counts the postings'"
        " measured write units over full groups, and each shard's share of the shards' measured write units"
        " plus 10% (two standard deviations at 2,500 debits/s over 8 shards); everything else as measured.",
        "",
        *_table(
            [
                "Case",
                "Events",
                "Round trips / event",
                "Journal's sequential requests / event",
                "WCU / event (all)",
                "Hottest kept key",
                "WCU / event on it",
                "Hottest kept item",
                "WCU / event on it",
                "Index WCU / event",
                "Life WCU",
                "Writes, $ / million events",
                "Sustained / s (this run)",
                "Sustained / s (full trigger batches)",
            ],
            [
                [
                    r.case,
                    f"{r.events:,}",
                    f"{r.round_trips:.2f}",
                    f"{r.journal_sequential:.3f}",
                    f"{r.write_units:.2f}",
                    f"`{r.hottest_key}`",
                    f"{r.key_wcu:.2f}",
                    f"`{r.hottest_item}`",
                    f"{r.item_wcu:.2f}",
                    f"{r.index_wcu:.2f}",
                    f"{r.own_key_life_wcu:,.0f}",
                    f"${prices.DYNAMODB_WRITE.of(r.write_units * 1_000_000):.2f}",
                    f"{r.sustained:,}",
                    f"**{r.sustained_full_batches:,}**",
                ]
                for r in rows
            ],
        ),
        "",
        *_table(
            ["Target", "Measured", ""],
            [
                [
                    f"hot account: ≥ {HOT_DEBITS_TARGET:,} single debits/s",
                    f"{single.sustained_full_batches:,}/s",
                    _mark(single.sustained_full_batches >= HOT_DEBITS_TARGET),
                ],
                [
                    f"hot account: ≥ {HOT_EVENTS_TARGET:,} batched usage events/s",
                    f"{batched.sustained_full_batches:,}/s",
                    _mark(batched.sustained_full_batches >= HOT_EVENTS_TARGET),
                ],
            ],
        ),
        "",
        "With shards and entry blocks, what limits a hot account is its hottest shard item (its share of the"
        " debits) and its account partition (postings, rollups, lending); more shards raise the first.",
        "",
        "The journal takes the account item's records one after another (one stream shard, in order), so its"
        " requests per event on that path bound how fast it numbers one account's history: a hot account's"
        " posting puts its entries and the numbered entries beside their records 25 per request, several"
        " requests side by side, instead of one update per event.",
        "",
    ]
    _append_section(
        out,
        lines,
        "hot_account_measured",
        [
            {**asdict(r), "sustained": r.sustained, "sustained_full_batches": r.sustained_full_batches}
            for r in rows
        ],
    )


def _append_section(out: Path, lines: list[str], key: str, data: Any) -> None:
    """A section added to the results.md and results.json that ``write`` made (as ``key`` in the JSON)."""
    with (out / "results.md").open("a") as md:
        md.write("\n".join(lines))
    path = out / "results.json"
    results = json.loads(path.read_text())
    results[key] = data
    path.write_text(json.dumps(results, indent=2) + "\n")

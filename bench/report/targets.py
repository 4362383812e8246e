"""The targets, each with what this run measured against it: the summary at the top of results.md."""

from __future__ import annotations

from bench.costs import Row
from bench.report.cost import BATCH_ROW, BATCH_SIZE, ceiling
from bench.report.markdown import mark, section, table, units
from bench.safety_net_scaling import NetRow
from bench.scaling import ScalingRow
from bench.sweep_scaling import SweepRow
from bench.timing import BASELINE, ColdStart, WarmOverhead

SWEEP_TARGET = 1.2  # sweep items read per due grant
HOT_DEBITS_TARGET = 2500  # single debits/s one account sustains
HOT_EVENTS_TARGET = 25000  # batched usage events/s
BATCH_ROUND_TRIPS_TARGET = 0.05  # per event
BATCH_WCU_TARGET = 3  # per event


def targets_section(
    rows: list[Row],
    scaling: list[ScalingRow],
    cold: list[ColdStart],
    warm: list[WarmOverhead],
    sweep: list[SweepRow],
    safety_net: list[NetRow],
) -> list[str]:
    return section(
        "Targets",
        table(
            ["Target", "Measured (misses listed)", ""],
            [
                *_debit_targets(rows),
                *_read_targets(scaling),
                *_timing_targets(cold, warm),
                *_batch_targets(rows),
                *_sweep_targets(sweep),
                _safety_net_target(safety_net),
            ],
        ),
    )


def _debit_targets(rows: list[Row]) -> list[list[str]]:
    debit = next(row for row in rows if row.name == "debit")
    return [
        [
            "debit: 1 round trip",
            f"{debit.own.round_trips} ({debit.own.requests})",
            mark(debit.own.round_trips == 1),
        ],
        [
            "debit: ≤ 4 WCU",
            f"{debit.own.write_units} (+{debit.journal.write_units} by the journal)",
            mark(debit.own.write_units <= 4),
        ],
    ]


def _read_targets(scaling: list[ScalingRow]) -> list[list[str]]:
    by = {(s.read, s.entries): s for s in scaling}
    sizes = sorted({s.entries for s in scaling})
    lines = []
    for read in ("balance card", "history page (50)"):
        small, large = by[(read, sizes[0])].side, by[(read, sizes[-1])].side
        flat = small.round_trips == large.round_trips == 1 and large.items_read <= max(small.items_read, 50)
        lines.append(
            [
                f"{read}: 1 round trip, flat in history length",
                f"{large.round_trips} round trip; {small.items_read} → {large.items_read} items read"
                f" ({sizes[0]:,} → {sizes[-1]:,} entries)",
                mark(flat),
            ]
        )
    return lines


def _timing_targets(cold: list[ColdStart], warm: list[WarmOverhead]) -> list[list[str]]:
    functions = [c for c in cold if c.function != BASELINE]
    warm_missed = [w.scenario for w in warm if not w.met]
    return [
        [
            "cold start ≤ 1.3 x baseline (≤ 1.6 x with stripe)",
            ", ".join(f"{c.function} {c.ratio:.2f}x" for c in functions if not c.met) or "every function",
            mark(all(c.met for c in functions)),
        ],
        [
            "warm overhead ≤ 2 x minimal handler",
            ", ".join(warm_missed) or "every operation",
            mark(not warm_missed),
        ],
    ]


def _batch_targets(rows: list[Row]) -> list[list[str]]:
    batch = next((row for row in rows if row.name == BATCH_ROW), None)
    if batch is None:
        return []
    trips = batch.own.round_trips / BATCH_SIZE
    wcu = (batch.own.write_units + batch.own.index_write_units) / BATCH_SIZE
    c = ceiling(rows)
    return [
        [
            f"usage batch: ≤ {BATCH_ROUND_TRIPS_TARGET:g} round trips per event",
            f"{trips:.2f} ({batch.own.round_trips} for {BATCH_SIZE} events: {batch.own.requests})",
            mark(trips <= BATCH_ROUND_TRIPS_TARGET),
        ],
        [
            f"usage batch: ≤ {BATCH_WCU_TARGET} WCU per event",
            f"{wcu:.2f} (+{(batch.journal.write_units + batch.journal.index_write_units) / BATCH_SIZE:.2f} by the"
            " journal)",
            mark(wcu <= BATCH_WCU_TARGET),
        ],
        [
            f'one account, not hot: ≥ {HOT_DEBITS_TARGET:,} single debits/s (hot: "Hot account, measured")',
            f"{c['debit']['sustained']:,}/s",
            mark(c["debit"]["sustained"] >= HOT_DEBITS_TARGET),
        ],
        [
            f'one account, not hot: ≥ {HOT_EVENTS_TARGET:,} batched usage events/s (hot: "Hot account, measured")',
            f"{c['batched_event']['sustained']:,}/s",
            mark(c["batched_event"]["sustained"] >= HOT_EVENTS_TARGET),
        ],
    ]


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
            mark(worst <= SWEEP_TARGET),
        ],
        [
            "sweep flat in table size",
            f"{small.side.items_read} → {large.side.items_read} items read, {small.side.round_trips} →"
            f" {large.side.round_trips} round trips ({small.accounts:,} → {large.accounts:,} accounts)",
            mark(flat),
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
        f" {units(first.read_units_per_enabled)} → {units(last.read_units_per_enabled)} RCU read per enabled"
        f" account ({first.enabled:,} of {first.accounts:,} → {last.enabled:,} of {last.accounts:,} accounts)",
        mark(flat),
    ]

"""results.md and results.json from one run."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import prices
from bench.account_size import SizeRow
from bench.bill import Bill
from bench.contention import Contention
from bench.costs import Row
from bench.export_size import ExportRow
from bench.hot_account import HotRow
from bench.reconcile_scaling import PaymentsRow, ReconcileRow
from bench.report.account_size import account_size_section
from bench.report.cost import ceiling, cost_section, hot_section
from bench.report.history import export_section, history_section, peak_memory_ratio
from bench.report.load import contention_section, hot_measured_section
from bench.report.table_size import reconcile_section, safety_net_section, sweep_section
from bench.report.targets import targets_section
from bench.report.timing import cold_start_section, warm_overhead_section
from bench.safety_net_scaling import NetRow
from bench.scaling import ScalingRow
from bench.sweep_scaling import SweepRow
from bench.timing import ColdStart, WarmOverhead


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
    export: list[ExportRow] = field(default_factory=list)
    hot: list[HotRow] = field(default_factory=list)  # the hot account, measured
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def write(r: Results, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text("\n".join(markdown(r)))
    (out / "results.json").write_text(json.dumps(data(r), indent=2) + "\n")


def markdown(r: Results) -> list[str]:
    """results.md's lines: the targets first, then a section per benchmark."""
    return [
        "# Benchmark results",
        "",
        f"`make bench{'-smoke' if r.mode == 'smoke' else ''}`, {r.started}, Python {platform.python_version()},"
        f" {platform.machine()}. Every number below comes from this one run.",
        "",
        *targets_section(r.rows, r.scaling, r.cold, r.warm, r.sweep, r.safety_net),
        *cost_section(r.rows, r.bills),
        *hot_section(r.rows, r.bills),
        *cold_start_section(r.cold),
        *warm_overhead_section(r.warm),
        *history_section(r.scaling),
        *sweep_section(r.sweep),
        *safety_net_section(r.safety_net),
        *account_size_section(r.account_size),
        *reconcile_section(r.reconcile, r.reconcile_payments),
        *contention_section(r.contention),
        *export_section(r.export),
        *hot_measured_section(r.hot),
    ]


def data(r: Results) -> dict[str, Any]:
    """results.json: every figure of the run."""
    return {
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
        "export_size": {
            "peak_memory_ratio": peak_memory_ratio(r.export),
            "rows": [{**asdict(e), "read_units": e.side.read_units} for e in r.export],
        },
        "hot_account_measured": [
            {**asdict(h), "sustained": h.sustained, "sustained_full_batches": h.sustained_full_batches}
            for h in r.hot
        ],
    }

"""Every operation on accounts that lived long, and the targets each must meet at every size."""

from __future__ import annotations

from collections.abc import Callable

from bench.account_size import DUE, SizeRow
from bench.costs import Side
from bench.report.markdown import mark, section, table, units
from bench.report.targets import SWEEP_TARGET

# operation → (what is checked, limit, the figure of a Side)
SIZE_TARGETS: dict[str, list[tuple[str, float, Callable[[Side], float]]]] = {
    "debit": [("WCU", 4, lambda s: s.write_units), ("RCU", 1, lambda s: s.read_units)],
    "hold": [("WCU", 6, lambda s: s.write_units)],
    "capture": [("WCU", 6, lambda s: s.write_units)],
    "release": [("WCU", 6, lambda s: s.write_units)],
    "grant": [("WCU", 6, lambda s: s.write_units)],
    "balance card": [("round trips", 2, lambda s: s.round_trips), ("RCU", 4, lambda s: s.read_units)],
}


def account_size_section(rows: list[SizeRow]) -> list[str]:
    if not rows:
        return []
    return section(
        "Cost against account size",
        "Each operation through the real code on accounts that lived long: open holds, live grants and the"
        " history of used-up grants written directly as the ledger lays them out (bench/account_size.py), one"
        " operation after the other on the same account, against a single-threaded moto server. Each cell:"
        " round trips / WCU / RCU. The sweep row: the scheduled sweep settling"
        f" {DUE} grants of the account that expired together.",
        table(
            ["Operation", *(r.size.label for r in rows)],
            [
                [
                    name,
                    *(
                        f"{r.sides[name].round_trips} / {r.sides[name].write_units} / {units(r.sides[name].read_units)}"
                        for r in rows
                    ),
                ]
                for name in rows[0].sides
            ]
            + [["account item (bytes)", *(f"{r.account_item_bytes:,}" for r in rows)]]
            + [["sweep: items read per due grant", *(f"{r.sweep_items_per_due_grant:.2f}" for r in rows)]],
        ),
        "Targets, each at every size (the worst size shown):",
        table(["Operation", "Target", "Worst", ""], _checks(rows)),
        "The account item holds no per-grant or per-hold state, so its size, and with it what a debit, hold,"
        " capture or release costs, is the same at every size. A grant with an expiry also writes one reminder"
        " item per reminder day ahead (2 WCU each in the transaction).",
    )


def _checks(rows: list[SizeRow]) -> list[list[str]]:
    checks = []
    for name, targets in SIZE_TARGETS.items():
        for what, limit, figure in targets:
            worst = max(figure(r.sides[name]) for r in rows)
            checks.append([name, f"{what} ≤ {limit:g}", units(worst), mark(worst <= limit)])
    worst_sweep = max(r.sweep_items_per_due_grant for r in rows)
    checks.append(
        [
            "sweep",
            f"items read per due grant ≤ {SWEEP_TARGET}",
            f"{worst_sweep:.2f}",
            mark(worst_sweep <= SWEEP_TARGET),
        ]
    )
    return checks

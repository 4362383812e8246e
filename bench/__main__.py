"""python -m bench [--smoke] [--out DIR]"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import (
    account_size,
    contention,
    costs,
    export_size,
    hot_account,
    reconcile_scaling,
    safety_net_scaling,
    scaling,
    sweep_scaling,
    timing,
)
from bench.account_size import AccountSize
from bench.bill import StreamTimes, bill
from bench.report import Results, write

THREADS = 16


@dataclass(frozen=True)
class Sizes:
    cold_runs: int  # fresh interpreters per function
    warm: int  # warm invocations per operation, of each handler
    history: list[int]  # entries in the accounts read for scaling
    accounts: list[int]  # accounts in the table the sweep runs over
    due: int  # due grants among them
    per_thread: int  # debits per thread under contention
    top_up: list[tuple[int, int]]  # (accounts with auto top-up on, accounts in all) the safety net runs over
    account_sizes: list[AccountSize]  # accounts the operations run on, by open holds, live and used-up grants
    reconciled: list[int]  # accounts in the table a reconciliation runs over
    changed: int  # of which changed
    payments: int  # payments reconciled against Stripe
    export: list[int]  # entries in the history exported
    hot: tuple[int, int, int]  # single debits, batches of 100, spend shards: on one hot account


FULL = Sizes(
    cold_runs=25,
    warm=300,
    history=[10, 10_000],
    accounts=[1_000, 10_000, 100_000],
    due=50,
    per_thread=32,
    top_up=[(1_000, 1_000), (1_000, 10_000), (10_000, 19_000)],
    account_sizes=[
        AccountSize(0, 1, 0),
        AccountSize(100, 1, 0),
        AccountSize(10_000, 1, 0),
        AccountSize(0, 1_000, 0),
        AccountSize(0, 1, 100_000),
        AccountSize(10_000, 1_000, 100_000),
    ],
    reconciled=[1_000, 10_000, 100_000],
    changed=20,
    payments=20,
    export=[1_000, 100_000],
    hot=(100, 3, 8),
)
SMOKE = Sizes(
    cold_runs=1,
    warm=5,
    history=[10, 100],
    accounts=[100, 1_000],
    due=5,
    per_thread=2,
    top_up=[(100, 100), (100, 200)],
    account_sizes=[AccountSize(0, 1, 0), AccountSize(100, 10, 100)],
    reconciled=[100, 1_000],
    changed=2,
    payments=2,
    export=[1_000, 3_000],
    hot=(16, 2, 4),
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: proves the tables are still produced"
    )
    parser.add_argument("--out", type=Path, help="where results.md and results.json go (default: bench/)")
    args = parser.parse_args()
    size = SMOKE if args.smoke else FULL
    out = args.out or Path(__file__).parent / ("smoke" if args.smoke else "")
    began = time.monotonic()

    def step(what: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {what}", flush=True)

    step("cost per operation")
    run = costs.measure()
    baseline = costs.Scenario(
        timing.BASELINE, "bare", {}, [next(e for e in run.scenarios[0].exchanges if e.operation == "GetItem")]
    )
    step("cold starts")
    cold = timing.cold_starts(run.scenarios, baseline, size.cold_runs)
    step("warm overhead")
    warm = timing.warm_overhead(run.scenarios, size.warm)
    warm_ms = {w.scenario: w.median_ms for w in warm}
    stream = StreamTimes(
        journal=next(w.median_ms for w in warm if w.function == "journal"),
        notifications=max(w.median_ms for w in warm if w.function == "notifications"),
    )
    bills = {row.name: bill(row, warm_ms[row.name], stream) for row in run.rows}
    step("scaling with history length")
    grown = scaling.measure(size.history)
    swept = sweep_scaling.measure(size.accounts, size.due, step)
    net = safety_net_scaling.measure(size.top_up, step)
    sized = account_size.measure(size.account_sizes, step)
    reconciled = reconcile_scaling.measure(size.reconciled, size.changed, step)
    paid = reconcile_scaling.measure_payments(size.payments, step)
    exported = export_size.measure(size.export, step)
    step("hot account")
    hot = hot_account.measure(*size.hot)
    step("contention")
    contended = contention.measure(THREADS, size.per_thread)
    results = Results(
        "smoke" if args.smoke else "full",
        run.rows,
        bills,
        cold,
        warm,
        grown,
        swept,
        net,
        contended,
        sized,
        reconciled,
        paid,
        exported,
        hot,
    )
    write(results, out)
    step(f"wrote {out / 'results.md'} and {out / 'results.json'}")
    if contended.overdrafts:
        print(f"FAILED: {contended.overdrafts} overdraft(s) under contention", file=sys.stderr)
        return 1
    if not (run.rows and cold and warm and grown and swept and net and sized and reconciled and exported):
        print("FAILED: a table came out empty", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

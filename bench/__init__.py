"""Benchmarks of the ledger: what each operation costs (round trips, capacity units, dollars), cold start,
warm overhead, scaling with history length, and correctness under contention.

    python -m bench            # full run: writes bench/results.md and bench/results.json
    python -m bench --smoke    # tiny sizes, for CI: proves every table is still produced
"""

"""Reads and exports against the length of an account's history."""

from __future__ import annotations

from bench.export_size import ExportRow
from bench.report.markdown import section, table, units
from bench.scaling import ScalingRow


def history_section(rows: list[ScalingRow]) -> list[str]:
    return section(
        "Scaling with history length",
        "The same account read with few and with many entries (extra entries written directly with"
        " BatchWriteItem).",
        table(
            ["Read", "Entries", "Round trips", "Items read", "RCU", "Entries returned"],
            [
                [
                    s.read,
                    f"{s.entries:,}",
                    s.side.round_trips,
                    s.side.items_read,
                    units(s.side.read_units),
                    s.returned,
                ]
                for s in rows
            ],
        ),
    )


def peak_memory_ratio(rows: list[ExportRow]) -> float | None:
    """The largest whole export's peak memory over the smallest's."""
    whole = [r for r in rows if r.what.startswith("whole")]
    return whole[-1].peak_kib / whole[0].peak_kib if len(whole) > 1 and whole[0].peak_kib else None


def export_section(rows: list[ExportRow]) -> list[str]:
    whole, ratio = [r for r in rows if r.what.startswith("whole")], peak_memory_ratio(rows)
    memory = (
        [
            f"Peak memory exporting {whole[-1].history:,} entries is {ratio:.2f}x that of {whole[0].history:,} "
            "(the export holds one page of up to 1,000 entries at a time, so past one page the peak no longer "
            "grows with the history)."
        ]
        if ratio is not None
        else []
    )
    return section(
        "Export against history length",
        "One account's history (a consumption entry a minute, written directly), exported as CSV with "
        "`ledger.export_entries` (what `credits-admin export` writes from): DynamoDB's figures of eventually "
        "consistent Queries of up to 1,000 entries, and the peak of Python's allocations during the export "
        "(tracemalloc). The window and the balance at a moment run on the largest history.",
        table(
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
                    units(r.side.read_units),
                    f"{r.peak_kib:,.0f}",
                    f"{r.seconds:.1f}",
                    f"{r.bytes_out:,}",
                ]
                for r in rows
            ],
        ),
        *memory,
    )

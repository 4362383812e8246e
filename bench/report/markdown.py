"""The Markdown of results.md: tables, sections, and how figures are written in them."""

from __future__ import annotations

from typing import Any


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def section(title: str, *blocks: str | list[str]) -> list[str]:
    """``## title``, then each block (a paragraph, a heading, or the lines of a table or a list), each followed
    by a blank line."""
    lines = [f"## {title}", ""]
    for block in blocks:
        lines += [block, ""] if isinstance(block, str) else [*block, ""]
    return lines


def mark(met: bool) -> str:
    return "met" if met else "**missed**"


def usd(x: float) -> str:
    return f"{x:,.2f}"


def units(x: float) -> str:
    return f"{x:g}"

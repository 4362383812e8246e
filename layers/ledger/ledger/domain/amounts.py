"""Credit amounts are integers: 1 <= amount <= MAX_AMOUNT. Never floats."""

from __future__ import annotations

MAX_AMOUNT = 1_000_000_000_000
MAX_LIMIT = MAX_AMOUNT
MAX_HOLD_SECONDS = 24 * 60 * 60  # a hold lapses within a day at most


def is_amount(value: object) -> bool:
    """True for a valid credit amount (bool is not an int here)."""
    return type(value) is int and 1 <= value <= MAX_AMOUNT

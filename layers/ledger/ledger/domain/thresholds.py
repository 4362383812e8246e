"""The low-balance rules, in one place.

- An account is **below** its threshold when available < threshold. Falling below it (from at or above) is
  a crossing: it sends ``credit_balance_low`` and, with auto top-up on, starts a top-up. One rule for both,
  so the notice and the top-up always agree (landing exactly on the threshold does neither).
- The balance card's ``low_balance`` badge is **at or below**: available <= threshold, a warning shown one
  credit before the crossing that announces it.
- The low-balance threshold in force is the account's own, else its auto top-up threshold while auto top-up
  is on, else the deployment's default; auto top-up itself always uses its own.
- No threshold (auto top-up off) is never below.
- A write's condition says "below" on the account item's ``spendable`` (available - hard_limit), the one
  figure every write keeps: ``spendable < spendable_trip(threshold, hard_limit)``.
"""

from __future__ import annotations


def threshold_in_force(own: int | None, top_up: int | None, default: int) -> int:
    """The low-balance threshold in force: the account's own, else its auto top-up threshold, else the
    default."""
    if own is not None:
        return own
    if top_up is not None:
        return top_up
    return default


def is_below(available: int, threshold: int | None) -> bool:
    """Below the threshold: what sends ``credit_balance_low`` and starts an auto top-up."""
    return threshold is not None and available < threshold


def crossed_below(before: int, before_threshold: int | None, after: int, after_threshold: int | None) -> bool:
    """A write took available from at or above its threshold (or from having none) to below it."""
    return not is_below(before, before_threshold) and is_below(after, after_threshold)


def shows_low(available: int, threshold: int) -> bool:
    """The balance card's ``low_balance`` badge: at or below the threshold."""
    return available <= threshold


def spendable_trip(threshold: int, hard_limit: int) -> int:
    """The ``spendable`` (available - hard_limit) an account is below ``threshold`` under: is_below for a
    condition that reads only the figure every write keeps."""
    return threshold - hard_limit

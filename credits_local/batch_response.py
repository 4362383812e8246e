"""What a function's answer to a batch says failed, read as Lambda's event source mappings read it."""

from __future__ import annotations

from typing import Any


def reported_failures(response: Any, identifiers: list[str]) -> set[str] | None:
    """The identifiers of the batch's records that the response's ``batchItemFailures`` names (none: every
    record succeeded), or None when the response fails the whole batch: an item identifier missing, empty
    or naming no record of the batch."""
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return set()
    named = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in identifiers:
            return None
        named.add(identifier)
    return named

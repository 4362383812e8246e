"""DynamoDB's documented capacity rules, applied to items in DynamoDB's typed JSON form.

Item size (Developer Guide, "DynamoDB item sizes and formats"): the sum of attribute names and values.
A string is its UTF-8 bytes; a number 1 byte per two significant digits plus 1; binary its raw bytes; a
boolean or null 1 byte; a list or map 3 bytes plus its elements, each element 1 byte more; a set the sum of
its elements.

Capacity: a write takes 1 unit per started KB (1,024 bytes) of the larger of the item before and after;
a read 1 unit per started 4 KB of everything read in the request, half that when eventually consistent.
Transactional reads and writes cost double. An index write costs like a standard write of the index entry.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

KB = 1024
READ_BLOCK = 4 * KB


def _number_size(text: str) -> int:
    digits = str(abs(Decimal(text))).replace(".", "").lstrip("0").rstrip("0")
    if "E" in digits.upper():  # scientific notation: keep the mantissa's digits only
        digits = digits.upper().split("E")[0].replace("-", "").replace("+", "")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size of one typed value (``{"S": ...}``, ``{"N": ...}``, ``{"M": ...}``, ...), without its name."""
    [(kind, raw)] = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) if isinstance(b, str) else len(b) for b in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of a typed item: attribute names plus values (0 for no item)."""
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int, transactional: bool = False) -> int:
    """Write units of one item write: per started KB, at least 1; doubled in a transaction."""
    units = max(1, math.ceil(size / KB))
    return units * 2 if transactional else units


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    """Read units of one read request of ``size`` bytes in all: per started 4 KB, at least 1 block."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    if transactional:
        return blocks * 2.0
    return float(blocks) if consistent else blocks / 2


def index_writes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, keys: list[str], projects_all: bool = False
) -> int:
    """Index writes one item write causes in an index keyed by ``keys`` (Developer Guide, "Global secondary
    indexes: writes"): entering or leaving the index 1, a changed index key 2 (delete + put), a change to an
    indexed item 1 (an index of keys only sees only key changes; one projecting all attributes sees any)."""

    def entry(item: dict[str, Any] | None) -> tuple[Any, ...] | None:
        if not item or any(k not in item for k in keys):
            return None
        return tuple(repr(item[k]) for k in keys)

    old, new = entry(before), entry(after)
    if old is None and new is None:
        return 0
    if old is None or new is None:
        return 1
    if old != new:
        return 2
    return 1 if projects_all and before != after else 0

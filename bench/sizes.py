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


def index_entry(
    item: dict[str, Any] | None, keys: list[str], projected: list[str] | None
) -> dict[str, Any] | None:
    """The item's entry in an index keyed by ``keys`` that projects ``projected`` (None: every attribute), or
    None when the item is not in the index (it lacks an index key: a sparse index)."""
    if not item or any(k not in item for k in keys):
        return None
    return item if projected is None else {k: v for k, v in item.items() if k in projected or k in keys}


def index_write_sizes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, keys: list[str], projected: list[str] | None
) -> list[int]:
    """Sizes of the index writes one item write causes (Developer Guide, "Global secondary indexes: writes"):
    entering or leaving the index 1, a changed index key 2 (delete + put), a change to a projected attribute
    of an indexed item 1, else none. Each costs like a standard write of its index entry."""
    old, new = index_entry(before, keys, projected), index_entry(after, keys, projected)
    if old is None and new is None:
        return []
    if old is None or new is None:
        return [item_size(old or new)]
    if any(old[k] != new[k] for k in keys):
        return [item_size(old), item_size(new)]
    return [] if old == new else [item_size(new)]

"""DynamoDB's typed attribute values (``{"N": "5"}``) from plain Python values and back.

The ledger stores whole numbers only, so a number reads back as an ``int``. Written here rather than taken from
``boto3.dynamodb.types``: importing that imports boto3 and its S3 transfer manager, which the functions never
use and which costs a good part of a cold start (runtime/aws.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def typed(value: Any) -> dict[str, Any]:
    """One plain value as an attribute value (the rules of boto3's TypeSerializer; floats are refused)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use int or Decimal types instead.")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in value):
            return {"NS": [str(v) for v in value]}
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(isinstance(v, bytes | bytearray) for v in value):
            return {"BS": [bytes(v) for v in value]}
        raise TypeError(f"a set of mixed or unsupported types: {value!r}")
    if isinstance(value, Mapping):
        return {"M": {k: typed(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [typed(v) for v in value]}
    raise TypeError(f"Unsupported type {type(value)} for value {value!r}")


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # written elsewhere as 1E+3 or 5.0: the ledger's numbers are whole
        return int(Decimal(text))


def plain(attribute: dict[str, Any]) -> Any:
    """One attribute value as a plain value (numbers as int)."""
    (kind, value), *_ = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return _number(value)
    if kind == "M":
        return {k: plain(v) for k, v in value.items()}
    if kind == "L":
        return [plain(v) for v in value]
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(v) for v in value}
    raise TypeError(f"Unsupported DynamoDB type {kind!r}")

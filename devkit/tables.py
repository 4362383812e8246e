"""Reading a whole table, to prove that a refused request wrote nothing."""

from __future__ import annotations

import os
from typing import Any

import boto3


def scan(table_name: str | None = None) -> list[dict[str, Any]]:
    """Every item of the table (default: TABLE_NAME), in key order, strongly consistent."""
    db, items = boto3.client("dynamodb"), []
    kwargs: dict[str, Any] = {"TableName": table_name or os.environ["TABLE_NAME"], "ConsistentRead": True}
    while True:
        page = db.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

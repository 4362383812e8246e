"""The ledger table as template.yaml defines it, and reading a whole table (to prove that a refused request
wrote nothing)."""

from __future__ import annotations

import os
from typing import Any

import boto3

from credits_local.template import create_table_kwargs, ttl_attribute


def create_table(db: Any, name: str) -> None:
    """The table, its TTL on, through the DynamoDB client ``db``."""
    db.create_table(**create_table_kwargs(name))
    if attribute := ttl_attribute():
        db.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


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

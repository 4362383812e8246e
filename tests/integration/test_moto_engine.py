"""The local stack's moto (credits_local/moto_engine.py) answers faster than moto by itself, with the same
answers: DynamoDB's item operations and the stream's records written with ``json`` instead of moto's
serializer (the same documents, field for field, for every such operation, with the values the ledger
stores and those it does not yet: blobs, sets), and a table's Query reading one partition (the same items,
order, counts and last key, forward and back, by pages, with and without a sort-key condition)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult
from moto.dynamodb.models.table import Table

from credits_local.moto_engine import PLAIN_JSON_OPERATIONS
from devkit.tables import create_table

Answer = tuple[str, str, Any, Any]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Answer]]:
    """Every answer of the run twice: as the server writes it, and as moto's own serializer writes it."""
    plain = ActionResult.execute_result
    assert getattr(plain, "plain_json", False), "conftest patches moto as the local stack's server does"
    seen: list[Answer] = []

    def both(self: ActionResult, context: Any) -> Any:
        ours, stock = plain(self, context), plain.stock(self, context)  # type: ignore[attr-defined]
        seen.append((context.service_model.service_name, context.operation_model.name, ours, stock))
        return ours

    monkeypatch.setattr(ActionResult, "execute_result", both)
    with mock_aws():
        yield seen


ITEM: dict[str, Any] = {
    "pk": {"S": "acct"},
    "sk": {"S": "entry#1"},
    "n": {"N": "-12"},
    "m": {"M": {"list": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"N": "1.5"}]}}},
    "blob": {"B": b"\x00\x01\xff"},
    "blobs": {"BS": [b"a", b"\x00"]},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2"]},
}


def test_item_and_stream_answers_are_the_documents_moto_would_write(answers: list[Answer]) -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    create_table(db, "t")  # the ledger's own table, from template.yaml
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    db.put_item(TableName="t", Item=ITEM, ReturnConsumedCapacity="TOTAL")
    db.put_item(TableName="t", Item={**ITEM, "sk": {"S": "entry#2"}}, ReturnValues="ALL_OLD")
    db.get_item(TableName="t", Key=key, ReturnConsumedCapacity="TOTAL")
    db.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    db.update_item(
        TableName="t",
        Key=key,
        UpdateExpression="SET n = n + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    db.query(
        TableName="t",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "acct"}},
        Limit=1,
        ReturnConsumedCapacity="TOTAL",
    )
    db.scan(TableName="t", Select="COUNT")
    db.batch_get_item(RequestItems={"t": {"Keys": [key]}})
    db.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**ITEM, "sk": {"S": "entry#3"}}}}]})
    db.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    db.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {**ITEM, "sk": {"S": "e#4"}}}}])
    db.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = db.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert records[0]["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\x01\xff"}  # read back through botocore

    compared = set()
    for service, operation, (status, headers, body), (stock_status, stock_headers, stock_body) in answers:
        assert (status, headers["Content-Type"]) == (stock_status, stock_headers["Content-Type"]), operation
        assert json.loads(body) == json.loads(stock_body), operation
        if operation in PLAIN_JSON_OPERATIONS.get(service, ()):
            compared.add((service, operation))
    assert compared == {(s, o) for s, operations in PLAIN_JSON_OPERATIONS.items() for o in operations}


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, Any]]]:
    """Every Query of the run twice: reading one partition (the patch) and as moto reads it."""
    patched = Table.query
    assert getattr(patched, "one_partition", False), "conftest patches moto as the local stack's server does"
    seen: list[tuple[Any, Any]] = []

    def both(self: Table, *args: Any, **kwargs: Any) -> Any:
        ours, stock = patched(self, *args, **kwargs), patched.stock(self, *args, **kwargs)  # type: ignore[attr-defined]
        seen.append((ours, stock))
        return ours

    monkeypatch.setattr(Table, "query", both)
    with mock_aws():
        yield seen


def test_a_query_of_one_partition_answers_as_moto_does(queries: list[tuple[Any, Any]]) -> None:
    db = boto3.client("dynamodb", region_name="us-east-1")
    create_table(db, "t")
    for account in ("a", "b", "c"):
        for n in range(12):
            item = {"pk": {"S": account}, "sk": {"S": f"{'entry' if n % 2 else 'hold'}#{n:03d}"}}
            due = {"due_pk": {"S": "DUE"}, "due": {"N": str(n % 3)}}
            db.put_item(TableName="t", Item={**item, "n": {"N": str(n)}, **due})

    def every_page(**query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] = {}
        while True:
            page = db.query(TableName="t", **query, **start)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    account_b = {":pk": {"S": "b"}}
    assert len(every_page(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=account_b)) == 12
    for forward in (True, False):
        every_page(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=account_b,
            ScanIndexForward=forward,
            Limit=5,
        )
        every_page(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :hold)",
            ExpressionAttributeValues={**account_b, ":hold": {"S": "hold#"}},
            ScanIndexForward=forward,
            Limit=4,
        )
        every_page(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            FilterExpression="n > :two",
            ExpressionAttributeValues={
                **account_b,
                ":low": {"S": "entry#"},
                ":high": {"S": "hold#"},
                ":two": {"N": "2"},
            },
            ScanIndexForward=forward,
            Limit=3,
        )
        for comparison in ("<", ">="):  # a range with items on one side only
            every_page(
                KeyConditionExpression=f"pk = :pk AND sk {comparison} :hold",
                ExpressionAttributeValues={**account_b, ":hold": {"S": "hold#"}},
                ScanIndexForward=forward,
                Limit=3,
            )
    every_page(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "nobody"}})
    every_page(
        IndexName="due",
        KeyConditionExpression="due_pk = :d AND due = :one",
        ExpressionAttributeValues={":d": {"S": "DUE"}, ":one": {"N": "1"}},
        Limit=5,
    )

    assert len(queries) == 30  # every page of every query above
    for (items, scanned, last_key), (stock_items, stock_scanned, stock_last_key) in queries:
        assert [i.to_json() for i in items] == [i.to_json() for i in stock_items]
        assert (scanned, last_key) == (stock_scanned, stock_last_key)

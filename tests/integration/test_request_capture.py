"""The benchmarks' capture of requests: real requests against moto, DynamoDB's sized around each write,
EventBridge's counted in events."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

import ledger
from bench.capture import Capture
from bench.costs import Publishing, Side
from bench.sizes import item_size, write_units
from devkit.bus import Bus
from ledger.events import publisher
from ledger.events.models import CreditBalanceLow
from ledger.events.publisher import Outgoing
from ledger.store import table as ledger_table

pytestmark = pytest.mark.usefixtures("aws")

KEY = {"pk": {"S": "ACCOUNT#sized"}, "sk": {"S": "note"}}


def capture() -> Capture:
    return Capture(ledger_table.client(), side=boto3.client("dynamodb"))


def test_an_update_is_charged_for_the_larger_of_the_item_before_and_after() -> None:
    db, name = ledger_table.client(), ledger_table.table_name()
    db.put_item(TableName=name, Item={**KEY, "text": {"S": "x" * 1500}})
    with capture().active() as c:
        db.update_item(
            TableName=name, Key=KEY, UpdateExpression="REMOVE #t", ExpressionAttributeNames={"#t": "text"}
        )
    [call] = c.take()
    after = db.get_item(TableName=name, Key=KEY)["Item"]
    assert item_size(after) < 1024 < call.writes[0].size  # shrunk below 1 KB, charged for the 1.5 KB before
    assert call.write_units == 2 and call.items_written == 1


def test_a_debit_is_counted_request_by_request_with_transactional_writes_doubled() -> None:
    ledger.grant("sized", 1_000, "promotional", "welcome")
    with capture().active() as c:
        ledger.debit("sized", 5, "render", "job-1")
    calls = c.take()
    assert [x.operation for x in calls] == ["TransactWriteItems", "GetItem"]
    transaction, read = calls
    items = {w.key[1]: w for w in transaction.writes}
    assert set(items) == {"A", "I#job-1"}
    stored = boto3.client("dynamodb")
    for sk, write in items.items():
        item = stored.get_item(
            TableName=ledger_table.table_name(), Key={"pk": {"S": "ACCOUNT#sized"}, "sk": {"S": sk}}
        )
        assert write.size >= item_size(item["Item"])
        assert write.units == write_units(write.size, transactional=True)
    assert read.items_read == 1 and read.read_units == 1.0


def test_a_refused_debit_writes_nothing_and_is_recorded_as_cancelled() -> None:
    ledger.grant("sized", 1, "promotional", "welcome")
    with capture().active() as c, pytest.raises(ledger.InsufficientCredits):
        ledger.debit("sized", 5, "render", "job-1")
    [call] = c.take()
    assert call.error == "TransactionCanceledException" and "ConditionalCheckFailed" in call.reasons
    assert call.items_written == 0


def test_published_notifications_are_captured_in_order_with_the_ledgers_requests_and_billed_per_event() -> (
    None
):
    Bus()
    ledger.grant("sized", 1_000, "promotional", "welcome")
    now = datetime.now(UTC)
    low = [
        CreditBalanceLow(
            account_id="sized", seq=n, balance=5, held=0, available=5, hard_limit=0, threshold=100
        )
        for n in range(1, 13)
    ]
    with Capture(ledger_table.client(), publisher.client(), side=boto3.client("dynamodb")).active() as c:
        ledger.balance_card("sized")
        publisher.publish([Outgoing.of(n, now) for n in low])
    calls = c.take()
    assert [(x.service, x.operation) for x in calls] == [
        ("dynamodb", "Query"),  # the account, its auto top-up item and its newest entries
        ("dynamodb", "Query"),  # its first grants
        ("eventbridge", "PutEvents"),
        ("eventbridge", "PutEvents"),  # at most 10 entries per request
    ]
    assert Publishing.of(calls) == Publishing(put_events=2, events=12, chunks=12)
    assert Side.of(calls).round_trips == 2  # DynamoDB's figures leave EventBridge out


def test_a_batch_get_with_a_projection_is_charged_per_whole_item_and_a_missing_one_at_the_minimum() -> None:
    db, name = ledger_table.client(), ledger_table.table_name()
    big = {"pk": {"S": "ACCOUNT#big"}, "sk": {"S": "A"}, "text": {"S": "x" * 5000}}
    small = {"pk": {"S": "ACCOUNT#small"}, "sk": {"S": "A"}, "seq": {"N": "1"}}
    for item in (big, small):
        db.put_item(TableName=name, Item=item)
    keys = [{"pk": i["pk"], "sk": i["sk"]} for i in (big, small)]
    keys.append({"pk": {"S": "ACCOUNT#none"}, "sk": {"S": "A"}})
    with capture().active() as c:
        db.batch_get_item(RequestItems={name: {"Keys": keys, "ProjectionExpression": "pk"}})
    [call] = c.take()
    assert call.items_read == 2
    assert (
        call.read_units == 1.0 + 0.5 + 0.5
    )  # 5 KB: 2 blocks, eventually consistent; the others 1 block each


def test_a_write_to_an_item_in_the_index_projecting_every_attribute_writes_the_index_too() -> None:
    db, name = ledger_table.client(), ledger_table.table_name()
    key = {"pk": {"S": "ACCOUNT#sized"}, "sk": {"S": "AT"}}
    db.put_item(TableName=name, Item={**key, "top_up_pk": {"S": "TOPUP"}, "check_at": {"N": "0"}})
    update = {"UpdateExpression": "SET version = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}}
    with capture().active() as c:
        db.update_item(TableName=name, Key=key, **update)
        db.update_item(TableName=name, Key={**key, "sk": {"S": "note"}}, **update)  # not in the index
    indexed, outside = c.take()
    assert (indexed.write_units, indexed.index_units) == (1, 1)
    assert (outside.write_units, outside.index_units) == (1, 0)

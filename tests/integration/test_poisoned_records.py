"""No one record stops the history or the notifications: what the ledger stores is checked before it is
written, and a stream record no retry can help is parked for an operator while the stream goes on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import ledger
from devkit.bus import Notifications
from devkit.http import http_event, owner, parse
from devkit.lambdas import invoke
from devkit.stream import StreamPump
from devkit.tables import scan
from ledger.store import parked
from tests.conftest import TABLE

USAGE = "/accounts/{account_id}/usage"


def debit_call(body: dict[str, Any]) -> tuple[int, Any]:
    return parse(invoke("debit", http_event("POST", USAGE, {"account_id": "pa"}, body, iam=True)))


def write_of(record: dict[str, Any]) -> tuple[str, str] | None:
    """(pk, seq) of an account write that advanced seq, else None."""
    stream = record["dynamodb"]
    if stream["Keys"]["sk"]["S"] != "A" or "NewImage" not in stream:
        return None
    old = stream.get("OldImage", {}).get("seq", {"N": "0"})["N"]
    new = stream["NewImage"].get("seq", {"N": "0"})["N"]
    return (stream["Keys"]["pk"]["S"], new) if new != old else None


def poison(record: dict[str, Any]) -> None:
    """An account write whose images do not add up: no retry can ever write its history."""
    record["dynamodb"]["NewImage"]["balance"] = {"N": "123456"}


@pytest.mark.parametrize(
    "metadata",
    [{"": "v"}, {"k": "\ud800"}, {"\udfff": "v"}, {"k" * 41: "v"}, {"k": "v" * 257}, {"k": "a\x00b"}],
)
def test_metadata_the_ledger_cannot_store_is_refused_before_anything_is_written(
    journal: StreamPump, metadata: dict[str, str]
) -> None:
    ledger.grant("pa", 100, "promotional", "g")
    before = scan(TABLE)
    status, body = debit_call({"amount": 1, "operation": "x", "idempotency_key": "p1", "metadata": metadata})
    assert status in (400, 422), body
    assert body["error"] in ("invalid_request", "malformed_json")
    assert scan(TABLE) == before
    with pytest.raises(ledger.InvalidRequest):
        ledger.debit("pa", 1, "x", "p2", metadata=metadata)
    journal.pump()
    card = parse(
        invoke(
            "balance",
            http_event("GET", "/accounts/{account_id}/balance", {"account_id": "pa"}, claims=owner("pa")),
        )
    )
    assert card[0] == 200 and card[1]["balance"] == 100


@pytest.mark.parametrize("description", ["\ud800", "d" * 201, "a\x00"])
def test_a_description_the_ledger_cannot_store_is_refused(aws: None, description: str) -> None:
    with pytest.raises(ledger.InvalidRequest):
        ledger.grant("pa", 100, "promotional", "g", description=description)
    assert scan(TABLE) == []


def test_a_poisoned_record_in_the_middle_of_a_batch_is_parked_and_the_history_goes_on(
    journal: StreamPump,
) -> None:
    ledger.grant("pa", 100, "promotional", "g")
    ledger.debit("pa", 10, "render", "d1")
    ledger.debit("pa", 20, "render", "d2")
    ledger.grant("other", 50, "promotional", "g")
    journal._read()
    [second] = [r for r in journal.pending if write_of(r) == ("ACCOUNT#pa", "2")]
    assert journal.pending.index(second) not in (0, len(journal.pending) - 1)
    poison(second)
    journal.pump()
    history = [(e.seq, e.type, e.amount, e.balance_after) for e in ledger.history("pa").items]
    assert history == [(3, "consumption", -20, 70), (2, "unrecorded", 123356, 123456), (1, "grant", 100, 100)]
    [marker] = [e for e in ledger.history("pa").items if e.type == "unrecorded"]
    [kept] = parked.parked("journal")
    assert kept["account_id"] == "pa" and "ValueError" in kept["error"]
    assert kept["sk"] in (marker.description or "")
    assert '"123456"' in kept["original"]
    assert [e.amount for e in ledger.history("other").items] == [50]
    # the usage report still counts the writes around it
    assert ledger.debit("pa", 1, "render", "d3").available == 69
    journal.pump()
    assert ledger.history("pa").items[0].seq == 4


def test_a_redelivered_poisoned_record_is_parked_once(journal: StreamPump) -> None:
    ledger.grant("pa", 100, "promotional", "g")
    journal._read()
    record = copy.deepcopy(next(r for r in journal.pending if write_of(r) == ("ACCOUNT#pa", "1")))
    poison(record)
    for _ in range(2):
        assert invoke("journal", {"Records": [record]}) == {"batchItemFailures": []}
    assert len(parked.parked("journal")) == 1
    assert [e.type for e in ledger.history("pa").items] == ["unrecorded"]


def test_notifications_go_on_past_a_poisoned_record(aws: None) -> None:
    notifications = Notifications(TABLE)
    ledger.grant("pa", 500, "purchase", "g1")
    ledger.debit("pa", 450, "render", "d1")  # 50: low
    ledger.grant("pb", 500, "purchase", "g1")
    ledger.debit("pb", 500, "render", "d1")  # 0: low and depleted
    notifications.stream._read()
    [crossing] = [r for r in notifications.stream.pending if write_of(r) == ("ACCOUNT#pa", "2")]
    crossing["dynamodb"]["NewImage"]["balance"] = {"S": "not a number"}
    published = notifications.pump()
    assert [(e["detail"]["account_id"], e["detail-type"]) for e in published] == [
        ("pb", "credit_balance_low"),
        ("pb", "credit_balance_depleted"),
    ] or sorted(e["detail-type"] for e in published) == ["credit_balance_depleted", "credit_balance_low"]
    [kept] = parked.parked("notifications")
    assert "pa" in kept["original"]


def outbox_insert(detail: dict[str, Any], seq: str = "1") -> dict[str, Any]:
    """A stream INSERT of an outbox item (``N#...``) as a record of the table's stream carries it."""
    return {
        "eventID": f"outbox-{seq}",
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": {"S": "ACCOUNT#pa"}, "sk": {"S": f"N#ntf_{seq}"}},
            "NewImage": {
                "pk": {"S": "ACCOUNT#pa"},
                "sk": {"S": f"N#ntf_{seq}"},
                "created_at": {"S": "2026-12-01T00:00:00.000Z"},
                **detail,
            },
            "SequenceNumber": seq.rjust(21, "0"),
        },
    }


@pytest.mark.parametrize(
    "detail",
    [
        {"detail_type": {"S": "credit_balance_low"}, "detail": {"SS": ["a", "b"]}},  # a set: not JSON
        {"detail_type": {"N": "5"}, "detail": {"M": {}}},  # a number where EventBridge takes text
        {"detail_type": {"S": "credit_balance_low"}, "detail": {"S": "text"}},
    ],
    ids=["set-detail", "number-detail-type", "text-detail"],
)
def test_an_outbox_item_that_can_never_be_sent_is_parked_and_the_records_after_it_go_on(
    aws: None, detail: dict[str, Any]
) -> None:
    Notifications(TABLE)  # the bus and its queue
    bad, good = (
        outbox_insert(detail, "1"),
        outbox_insert(
            {"detail_type": {"S": "credit_balance_low"}, "detail": {"M": {"account_id": {"S": "pa"}}}}, "2"
        ),
    )
    assert invoke("notifications", {"Records": [bad, good]}) == {"batchItemFailures": []}
    [kept] = parked.parked("notifications")
    assert "outbox-1" in kept["original"]


SHARD = {"pk": {"S": "ACCOUNT#pa#S1"}, "sk": {"S": "S"}}


@pytest.mark.parametrize(
    ("keys", "image"),
    [
        (SHARD, {"seq": {"S": "x"}}),
        (SHARD, {"seq": {"N": "2"}, "last": {"N": "5"}}),
        (SHARD, {"seq": {"N": "2"}, "last": {"L": [{"M": {"batch": {"S": "b"}, "count": {"S": "many"}}}]}}),
        ({"pk": {"N": "abc"}, "sk": {"S": "S"}}, {"seq": {"N": "2"}}),
    ],
    ids=["text-seq", "last-not-list", "count-not-number", "key-not-text"],
)
def test_a_shard_record_that_cannot_be_read_is_parked_and_the_batch_goes_on(
    journal: StreamPump, keys: dict[str, Any], image: dict[str, Any]
) -> None:
    ledger.grant("pa", 100, "promotional", "g")
    journal._read()
    bad = {
        "eventID": "shard-1",
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": keys,
            "OldImage": {**keys, "seq": {"N": "1"}},
            "NewImage": {**keys, **image},
            "SequenceNumber": "1".rjust(21, "0"),
            "ApproximateCreationDateTime": 10**20,  # no date: the parked record is written now
        },
    }
    assert invoke("journal", {"Records": [bad, *journal.pending]}) == {"batchItemFailures": []}
    assert len(parked.parked("journal")) == 1
    assert [e.type for e in ledger.history("pa").items] == ["grant"]

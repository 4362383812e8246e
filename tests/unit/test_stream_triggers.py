"""Which stream records reach which function, as the benchmarks read the triggers' filters in template.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from bench.functions import receives


def record(event_name: str, sk: str) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "ACCOUNT#acme"}, "sk": {"S": sk}}, "SequenceNumber": "1"},
    }


@pytest.mark.parametrize(
    ("event_name", "sk", "journal", "notifications"),
    [
        ("MODIFY", "A", True, True),
        ("INSERT", "A", True, True),
        ("INSERT", "N#ntf_1", False, True),  # an outbox item is published once, when it is written
        ("REMOVE", "N#ntf_1", False, False),  # ... not when its TTL deletes it
        ("INSERT", "R#grt_1#30", False, False),  # reminders reach nobody until the sweep sends them
        ("INSERT", "E#000000000000001", False, False),  # the journal's own entries wake nobody
    ],
)
def test_each_function_gets_only_the_records_its_trigger_lets_through(
    event_name: str, sk: str, journal: bool, notifications: bool
) -> None:
    assert receives("journal", record(event_name, sk)) is journal
    assert receives("notifications", record(event_name, sk)) is notifications

"""The auto top-up queue's message: what the notifications function sends is what the auto top-up function
reads, and nothing else passes for one."""

from __future__ import annotations

import pytest

from ledger.events.top_up_queue import TopUpRequest


def test_a_request_survives_the_queue() -> None:
    request = TopUpRequest("acme", 42)
    assert TopUpRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[]",
        "{}",
        '{"account_id": "acme"}',
        '{"account_id": 7, "seq": 1}',
        '{"account_id": "a", "seq": "1"}',
        '{"account_id": "a", "seq": true}',
        '{"account_id": "a", "seq": 1.5}',
    ],
)
def test_anything_else_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        TopUpRequest.from_json(body)

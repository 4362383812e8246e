"""The auto top-up queue: the message that asks the auto top-up function to start an account's top-up, and
its sending. Requests are found on the table's stream (``usecases/top_up_requests.py``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING

from ledger import settings
from ledger.runtime import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


@dataclass(frozen=True, slots=True)
class TopUpRequest:
    """The queue's message. Plain JSON, read without pydantic: the notifications function sends these on
    the stream's every crossing and need not load a validation library to do it."""

    account_id: str
    seq: int  # the write that crossed

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> TopUpRequest:
        """The request in a message body; ValueError for anything but {"account_id": str, "seq": int}."""
        body = json.loads(text)
        account_id = body.get("account_id") if isinstance(body, dict) else None
        seq = body.get("seq") if isinstance(body, dict) else None
        if not isinstance(account_id, str) or not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError(f"not a top-up request: {str(text)[:200]!r}")
        return cls(account_id, seq)


@cache
def client() -> SQSClient:
    sqs: SQSClient = aws.client("sqs")
    return sqs


def send(request: TopUpRequest) -> None:
    client().send_message(QueueUrl=settings.auto_top_up_queue_url(), MessageBody=request.to_json())

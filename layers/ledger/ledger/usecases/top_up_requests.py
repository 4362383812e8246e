"""Top-up requests: the stream sees a write take an account's available below its auto top-up threshold and
asks the auto top-up function, through its queue, to start the top-up.

The stream already has its two readers (the journal, the notifications publisher; DynamoDB advises no more
per shard), so the notifications function finds the crossings and this queue carries them. A request names
the crossing (account and seq); the claim decides, so a request delivered twice starts one top-up."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ledger import settings
from ledger.domain.thresholds import crossed_below
from ledger.runtime import aws
from ledger.store.account_item import available_before, parse_account
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT

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


def crossing(account_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> TopUpRequest | None:
    """A request when this account write took available below the auto top-up threshold (or turned auto
    top-up on while below it)."""
    if new.get(THRESHOLD_ON_ACCOUNT) is None:
        return None  # auto top-up is off, as for most accounts: their figures need no reading
    before, after = parse_account(account_id, old), parse_account(account_id, new)
    start = available_before(before, old, new)
    if start is None or not crossed_below(
        start, before.top_up_threshold, after.available, after.top_up_threshold
    ):
        return None  # not below, already below before this write, or a step of a settlement before its last
    return TopUpRequest(account_id=account_id, seq=after.seq)


@cache
def client() -> SQSClient:
    sqs: SQSClient = aws.client("sqs")
    return sqs


def send(request: TopUpRequest) -> None:
    client().send_message(QueueUrl=settings.auto_top_up_queue_url(), MessageBody=request.to_json())

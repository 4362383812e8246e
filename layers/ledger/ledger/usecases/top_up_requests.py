"""Top-up requests: the stream sees a write take an account's available below its auto top-up threshold and
asks the auto top-up function, through its queue, to start the top-up.

The stream already has its two readers (the journal, the notifications publisher; DynamoDB advises no more
per shard), so the notifications function finds the crossings and this queue carries them. A request names
the crossing (account and seq); the claim decides, so a request delivered twice starts one top-up."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel

from ledger import settings
from ledger.domain.thresholds import crossed_below
from ledger.store.account_item import parse_account
from ledger.store.top_up_item import THRESHOLD_ON_ACCOUNT

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


class TopUpRequest(BaseModel):
    account_id: str
    seq: int  # the write that crossed


def crossing(account_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> TopUpRequest | None:
    """A request when this account write took available below the auto top-up threshold (or turned auto
    top-up on while below it)."""
    if new.get(THRESHOLD_ON_ACCOUNT) is None:
        return None  # auto top-up is off, as for most accounts: their figures need no reading
    before, after = parse_account(account_id, old), parse_account(account_id, new)
    if not crossed_below(before.available, before.top_up_threshold, after.available, after.top_up_threshold):
        return None  # not below, or already below before this write: it crossed nothing
    return TopUpRequest(account_id=account_id, seq=after.seq)


@cache
def client() -> SQSClient:
    return boto3.client("sqs")


def send(request: TopUpRequest) -> None:
    client().send_message(QueueUrl=settings.auto_top_up_queue_url(), MessageBody=request.model_dump_json())

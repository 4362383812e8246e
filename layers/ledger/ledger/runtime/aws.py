"""AWS clients, made from one botocore session.

botocore rather than boto3: ``import boto3`` also imports its S3 transfer manager, which no function uses and
which costs a good part of a cold start (bench/results.md, "Cold start"); a client made here is the same
low-level client ``boto3.client`` makes (the same credentials, region, retries and endpoint resolution)."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from botocore.session import Session, get_session

_making = threading.Lock()  # a botocore session is not safe to make clients from in two threads at once


@cache
def session() -> Session:
    return get_session()


def client(service: str, endpoint_url: str | None = None) -> Any:
    with _making:
        return session().create_client(service, endpoint_url=endpoint_url)

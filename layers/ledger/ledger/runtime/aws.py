"""AWS clients, made from one botocore session.

botocore rather than boto3: ``import boto3`` also imports its S3 transfer manager, which no function uses and
which costs about a third of a cold start; a client made here is the same low-level client ``boto3.client``
makes (the same credentials, region, retries and endpoint resolution)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.session import Session, get_session


@cache
def session() -> Session:
    return get_session()


def client(service: str, endpoint_url: str | None = None) -> Any:
    return session().create_client(service, endpoint_url=endpoint_url)

"""Hand-written handlers to compare against: nothing but boto3 and the DynamoDB requests themselves.

``get_item`` is the cold-start baseline: a module that creates ``boto3.client("dynamodb")`` and a handler that
makes one GetItem. ``same_calls`` is the warm-overhead baseline: it parses the body and makes exactly the
requests the real function made (set in ``CALLS``: DynamoDB's, and EventBridge's or SQS's through a client made
before the timing starts), with no validation, models, logging or routing.
"""

import json
import os
from contextlib import suppress
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

client = boto3.client("dynamodb")
CALLS: list[tuple[str, str, dict[str, Any]]] = []  # (service, operation, request)
clients: dict[str, Any] = {"dynamodb": client}


def get_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    key = {"pk": {"S": "ACCOUNT#baseline"}, "sk": {"S": "A"}}
    item = client.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True).get("Item")
    return {"statusCode": 200, "body": json.dumps({"found": item is not None})}


def same_calls(event: dict[str, Any], context: Any) -> dict[str, Any]:
    json.loads(event.get("body") or "{}")
    answered = 0
    for service, operation, params in CALLS:
        if service not in clients:  # EventBridge's or SQS's, made on first use
            clients[service] = boto3.client("events") if service == "eventbridge" else boto3.client("sqs")
        with suppress(ClientError):  # a refusal is an answer too
            getattr(clients[service], xform_name(operation))(**params)
        answered += 1
    return {"statusCode": 200, "body": json.dumps({"answered": answered})}

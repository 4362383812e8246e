"""The template's tables, queues and event buses, created in the engine, and the names the functions see.

Unnamed resources are called ``<stack name>-<logical id>`` (CloudFormation adds a random suffix; locally
the name is stable). ``Deployed.resolver`` evaluates !Ref, !GetAtt and !Sub against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from credits_local.authorizers import LOCAL_ACCOUNT_ID, REGION
from credits_local.template import (
    EVENT_BUS,
    FUNCTION,
    QUEUE,
    TABLE,
    Resolver,
    Template,
    create_table_kwargs,
    ttl_attribute,
)


@dataclass
class Deployed:
    resolver: Resolver
    queue_urls: dict[str, str] = field(default_factory=dict)  # queue ARN → URL
    bus_names: dict[str, str] = field(default_factory=dict)  # logical id → bus name
    table_names: dict[str, str] = field(default_factory=dict)  # logical id → table name


def client(service: str, endpoint: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _name(resolver: Resolver, stack: str, logical_id: str, props: dict[str, Any], key: str) -> str:
    return str(resolver.resolve(props[key])) if key in props else f"{stack}-{logical_id}"


# AWS::SQS::Queue properties that are not queue attributes, and the redrive policies, which name other queues.
NOT_QUEUE_ATTRIBUTES = frozenset({"QueueName", "Tags"})
REDRIVE = frozenset({"RedrivePolicy", "RedriveAllowPolicy"})


def _attribute(value: Any) -> str:
    """A resolved queue property as an SQS attribute value: a string, JSON for a policy."""
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def deploy(template: Template, stack: str, endpoint: str) -> Deployed:
    """Create the template's tables, queues and buses in the engine at ``endpoint``."""
    body = template.body
    refs: dict[str, str] = {
        "AWS::StackName": stack,
        "AWS::Region": REGION,
        "AWS::AccountId": LOCAL_ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{LOCAL_ACCOUNT_ID}:stack/{stack}/local",
        "AWS::NoValue": "",
        **template.parameters(),
    }
    attributes: dict[str, str] = {}
    resolver = Resolver(refs, attributes, body.get("Conditions", {}))
    deployed = Deployed(resolver)
    arn = f"{REGION}:{LOCAL_ACCOUNT_ID}"

    for logical_id in body["Resources"]:
        refs.setdefault(logical_id, f"{stack}-{logical_id}")
        attributes[f"{logical_id}.Arn"] = f"arn:aws:local:{arn}:{stack}-{logical_id}"

    dynamodb, sqs, events = client("dynamodb", endpoint), client("sqs", endpoint), client("events", endpoint)
    for logical_id, resource in template.resources(TABLE).items():
        props = resource.get("Properties", {})
        name = _name(resolver, stack, logical_id, props, "TableName")
        table = dynamodb.create_table(**create_table_kwargs(name, logical_id, body))["TableDescription"]
        if attribute := ttl_attribute(logical_id, body):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
            )
        refs[logical_id] = name
        attributes[f"{logical_id}.Arn"] = table["TableArn"]
        if "LatestStreamArn" in table:
            attributes[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
        deployed.table_names[logical_id] = name

    queues = template.resources(QUEUE)
    for logical_id, resource in queues.items():
        props = resource.get("Properties", {})
        name = _name(resolver, stack, logical_id, props, "QueueName")
        created = {
            key: _attribute(resolver.resolve(value))
            for key, value in props.items()
            if key not in NOT_QUEUE_ATTRIBUTES | REDRIVE
        }
        url = sqs.create_queue(QueueName=name, Attributes=created)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        refs[logical_id] = url
        attributes.update(
            {f"{logical_id}.Arn": queue_arn, f"{logical_id}.QueueName": name, f"{logical_id}.QueueUrl": url}
        )
        deployed.queue_urls[queue_arn] = url
    for logical_id, resource in queues.items():  # the redrive policies, once the queues they name exist
        props = resource.get("Properties", {})
        redrive = {key: _attribute(resolver.resolve(props[key])) for key in REDRIVE & props.keys()}
        if redrive:
            sqs.set_queue_attributes(QueueUrl=refs[logical_id], Attributes=redrive)

    for logical_id, resource in template.resources(EVENT_BUS).items():
        name = _name(resolver, stack, logical_id, resource.get("Properties", {}), "Name")
        bus_arn = (
            f"arn:aws:events:{arn}:event-bus/default"
            if name == "default"
            else events.create_event_bus(Name=name)["EventBusArn"]
        )
        refs[logical_id] = name
        attributes.update({f"{logical_id}.Arn": bus_arn, f"{logical_id}.Name": name})
        deployed.bus_names[logical_id] = name

    for logical_id, resource in template.resources(FUNCTION).items():
        name = _name(resolver, stack, logical_id, resource.get("Properties", {}), "FunctionName")
        refs[logical_id] = name
        attributes[f"{logical_id}.Arn"] = f"arn:aws:lambda:{arn}:function:{name}"
    return deployed

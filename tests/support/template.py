"""template.yaml as the single source of the table's and functions' definitions in tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, ...) as {"Ref": ...} / {"Fn::X": ...}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def template() -> dict[str, Any]:
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def create_table_kwargs(name: str, logical_id: str = "LedgerTable") -> dict[str, Any]:
    """CreateTable arguments from the template's own table resource."""
    props = template()["Resources"][logical_id]["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "BillingMode": props["BillingMode"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
    }
    if "GlobalSecondaryIndexes" in props:
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return kwargs


def ttl_attribute(logical_id: str = "LedgerTable") -> str | None:
    spec = template()["Resources"][logical_id]["Properties"].get("TimeToLiveSpecification")
    return spec["AttributeName"] if spec and spec.get("Enabled") else None


def function_dirs() -> dict[str, Path]:
    """Logical id → code directory of every function in the template."""
    return {
        name: ROOT / r["Properties"]["CodeUri"] for name, r in resources("AWS::Serverless::Function").items()
    }


def http_routes() -> list[tuple[str, str, str, str]]:
    """(function logical id, method, path, authorizer) for every HttpApi event."""
    routes = []
    for name, r in resources("AWS::Serverless::Function").items():
        for event in r["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                p = event["Properties"]
                routes.append(
                    (name, p["Method"].upper(), p["Path"], p.get("Auth", {}).get("Authorizer", "NONE"))
                )
    return routes

"""template.yaml read as the local stack and the tests need it: resources, functions, their events.

CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...) load as their long forms ({"Ref": ...},
{"Fn::GetAtt": [...]}, ...); ``Resolver`` turns them into the local stack's names and ARNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT / "template.yaml"

FUNCTION = "AWS::Serverless::Function"
TABLE = "AWS::DynamoDB::Table"
EVENT_BUS = "AWS::Events::EventBus"
QUEUE = "AWS::SQS::Queue"
LAYER = "AWS::Serverless::LayerVersion"


class TemplateError(ValueError):
    """The template uses something the local stack cannot reproduce."""


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
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


@cache
def template() -> dict[str, Any]:
    """The project's template.yaml."""
    return load(DEFAULT_TEMPLATE)


def resources(kind: str, body: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    body = body if body is not None else template()
    return {name: r for name, r in body["Resources"].items() if r["Type"] == kind}


def create_table_kwargs(
    name: str, logical_id: str = "LedgerTable", body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """CreateTable arguments from the template's own table resource."""
    props = (body if body is not None else template())["Resources"][logical_id]["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
    }
    for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if optional in props:
            kwargs[optional] = props[optional]
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return kwargs


def ttl_attribute(logical_id: str = "LedgerTable", body: dict[str, Any] | None = None) -> str | None:
    props = (body if body is not None else template())["Resources"][logical_id]["Properties"]
    spec = props.get("TimeToLiveSpecification")
    return spec["AttributeName"] if spec and spec.get("Enabled") else None


def function_dirs() -> dict[str, Path]:
    """Logical id → code directory of every function in the project's template."""
    return {name: ROOT / r["Properties"]["CodeUri"] for name, r in resources(FUNCTION).items()}


def http_routes(body: dict[str, Any] | None = None) -> list[tuple[str, str, str, str]]:
    """(function logical id, method, path, authorizer) for every HttpApi event."""
    routes = []
    for name, r in resources(FUNCTION, body).items():
        for event in r["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                p = event["Properties"]
                authorizer = p.get("Auth", {}).get("Authorizer", "NONE")
                routes.append((name, p.get("Method", "ANY").upper(), p.get("Path", "$default"), authorizer))
    return routes


@dataclass(frozen=True)
class Function:
    """One AWS::Serverless::Function with Globals applied."""

    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    layers: list[Any]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def events_of(self, *kinds: str) -> dict[str, dict[str, Any]]:
        return {name: e.get("Properties", {}) for name, e in self.events.items() if e["Type"] in kinds}


@dataclass
class Template:
    """A template file: its resources, parameter values and functions."""

    path: Path
    body: dict[str, Any]
    parameter_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path, parameter_overrides: dict[str, str] | None = None) -> Template:
        body = load(path)
        if "Resources" not in body:
            raise TemplateError(f"{path}: no Resources")
        unknown = set(parameter_overrides or {}) - set(body.get("Parameters", {}))
        if unknown:
            raise TemplateError(f"{path}: no such parameter(s): {', '.join(sorted(unknown))}")
        return cls(path.resolve(), body, dict(parameter_overrides or {}))

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return resources(kind, self.body)

    def parameters(self) -> dict[str, str]:
        """Each parameter's value: the override, else its default."""
        values = {}
        for name, spec in self.body.get("Parameters", {}).items():
            if name in self.parameter_overrides:
                values[name] = self.parameter_overrides[name]
            elif "Default" in spec:
                values[name] = str(spec["Default"])
            else:
                raise TemplateError(f"parameter {name} has no default: pass --parameter {name}=VALUE")
        return values

    def functions(self) -> dict[str, Function]:
        defaults = self.body.get("Globals", {}).get("Function", {})
        functions = {}
        for name, resource in self.resources(FUNCTION).items():
            props = {**defaults, **resource.get("Properties", {})}
            variables = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
            }
            if "CodeUri" not in props or not isinstance(props["CodeUri"], str):
                raise TemplateError(f"{name}: only a local CodeUri directory can run locally")
            functions[name] = Function(
                logical_id=name,
                code_dir=(self.base_dir / props["CodeUri"]).resolve(),
                handler=props.get("Handler", "app.handler"),
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment=variables,
                layers=list(props.get("Layers", [])),
                events=dict(props.get("Events", {})),
            )
        return functions

    def layer_dirs(self, function: Function) -> list[Path]:
        """Code directories of the function's layers declared in this template."""
        dirs = []
        for layer in function.layers:
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            resource = self.body["Resources"].get(logical_id or "")
            if resource is None or resource["Type"] != LAYER:
                raise TemplateError(f"{function.logical_id}: only layers of this template can run locally")
            dirs.append((self.base_dir / resource["Properties"]["ContentUri"]).resolve())
        return dirs


_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


@dataclass
class Resolver:
    """Evaluates intrinsic functions with the local stack's values.

    ``refs`` maps a logical id (resource or parameter) or pseudo parameter to what !Ref returns; ``attributes``
    maps "LogicalId.Attribute" to what !GetAtt returns."""

    refs: dict[str, str]
    attributes: dict[str, str]
    conditions: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        [(key, argument)] = value.items()
        if key == "Ref":
            return self._ref(argument)
        if key == "Fn::GetAtt":
            return self._attribute(argument[0], argument[1])
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(self.resolve(i)) for i in self.resolve(items))
        if key == "Fn::If":
            condition, then, otherwise = argument
            return self.resolve(then if self.condition(condition) else otherwise)
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if key.startswith("Fn::"):
            raise TemplateError(f"{key} is not supported by the local stack")
        return {key: self.resolve(argument)}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"no condition {name}")
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        [(key, argument)] = value.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in argument)
        if key == "Fn::Or":
            return any(self._truth(a) for a in argument)
        if key == "Condition":
            return self.condition(argument)
        raise TemplateError(f"{key} is not supported in conditions")

    def _ref(self, name: str) -> str:
        if name not in self.refs:
            raise TemplateError(f"!Ref {name}: not a parameter or resource the local stack knows")
        return self.refs[name]

    def _attribute(self, logical_id: str, attribute: str) -> str:
        key = f"{logical_id}.{attribute}"
        if key not in self.attributes:
            raise TemplateError(f"!GetAtt {key}: not an attribute the local stack knows")
        return self.attributes[key]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if "." in name and not name.startswith("AWS::"):
                return self._attribute(*name.split(".", 1))
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)

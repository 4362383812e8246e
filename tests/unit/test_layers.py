"""The layer's packages depend one way: a module imports only its own layer and the layers under it.

    domain, settings, shapes                pure rules (domain imports nothing of ours but domain), the
                                            deployment's settings, and how dataclasses are checked and written
    store, journal, payments, events,       adapters (DynamoDB, Stripe, EventBridge, Lambda's logs and
    runtime                                 metrics): domain and each other
    usecases                                one module per operation: adapters and domain
    api, notifications, ledger/__init__.py  what the functions call: use cases and everything under them

So no adapter reaches up into a use case, and the rules stay where every layer can read them. A new module
outside these packages fails here until it is given a layer.

Beside the order of the layers: Stripe is spoken to only in payments, and only when a request needs it (the
cold start of every function that never charges stays free of its import); the domain is pure Python.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "layers" / "ledger" / "ledger"

# The first dotted parts under ``ledger`` that name a layer, and its rank (a module may import its own rank or
# any lower one; domain may import only itself).
LAYERS: dict[str, int] = {
    "domain": 0,
    "settings": 0,  # the environment, read in one place: anything but domain may import it
    "shapes": 0,  # dataclasses checked and written as pydantic would, without pydantic: anything but domain
    "store": 1,
    "journal": 1,  # it numbers entries: store-level
    "payments": 1,
    "events": 1,
    "runtime": 1,  # what Lambda itself gives every function: logs, metrics, batch answers, schedule time
    "usecases": 2,
    "api": 3,
    "notifications": 3,
    "": 3,  # ledger/__init__.py: the operations for any Lambda with the layer
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """The layer of a ``ledger`` module (``ledger.store.table`` -> ``store``), None if it has none."""
    parts = module.split(".")
    if parts[0] != "ledger":
        return None
    top = parts[1] if len(parts) > 1 else ""
    return top if top in LAYERS else None


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # absolute: ``from ..store import table`` in ledger/usecases is ``ledger.store``
    statement: str
    eager: bool  # runs when the file is imported: at its top level, not in a function or under TYPE_CHECKING


def imports_of(path: Path) -> list[Import]:
    """Every import in the file, wherever it is."""
    package = module_name(path).split(".") if path.is_relative_to(ROOT.parent) else []  # a function: none
    if package and path.name != "__init__.py":
        package = package[:-1]
    found: list[Import] = []

    def visit(node: ast.AST, eager: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(child.lineno, a.name, f"import {a.name}", eager) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package[: len(package) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from ledger import usecases`` imports the package ``ledger.usecases``
                found.extend(
                    Import(
                        child.lineno,
                        f"{base}.{a.name}" if base == "ledger" else base,
                        f"from {base} import {a.name}",
                        eager,
                    )
                    for a in child.names
                )
            else:
                deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                    isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
                )
                visit(child, eager and not deferred)

    visit(ast.parse(path.read_text(), filename=str(path)), True)
    return found


def ledger_imports(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, module, statement) of every ``ledger`` import in the file."""
    for found in imports_of(path):
        if found.module == "ledger" or found.module.startswith("ledger."):
            yield found.line, found.module, found.statement


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert modules(), f"no modules under {ROOT}"
    unplaced = [str(p.relative_to(ROOT.parent)) for p in modules() if layer_of(module_name(p)) is None]
    assert not unplaced, f"modules outside every layer (add their package to LAYERS): {unplaced}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path: Path) -> None:
    here = layer_of(module_name(path))
    assert here is not None
    wrong = []
    for line, name, statement in ledger_imports(path):
        there = layer_of(name)
        if there is None:
            wrong.append(f"line {line}: `{statement}`: {name} is in no layer")
        elif here == "domain" and there != "domain":
            wrong.append(f"line {line}: `{statement}`: domain imports nothing of ours but domain")
        elif LAYERS[there] > LAYERS[here]:
            wrong.append(
                f"line {line}: `{statement}`: {here} may not import {there or 'ledger'}, a layer above it"
            )
    where = path.relative_to(ROOT.parent)
    assert not wrong, f"{where} imports up the layers:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", modules(), ids=module_name)
def test_only_payments_imports_stripe_and_only_inside_what_uses_it(path: Path) -> None:
    stripe = [(i.module, i.eager) for i in imports_of(path) if i.module.split(".")[0] == "stripe"]
    if not module_name(path).startswith("ledger.payments."):
        assert stripe == []
    else:
        assert not any(eager for _, eager in stripe)


@pytest.mark.parametrize("path", sorted((ROOT / "domain").glob("*.py")), ids=module_name)
def test_the_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for module in (i.module for i in imports_of(path)):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or module.startswith("ledger.domain"), module
        assert top != "os", "the domain reads no environment: its callers pass what it needs"


def test_the_stripe_seam_knows_nothing_of_use_cases() -> None:
    for name in ("gateway.py", "stripe_api.py"):
        for module in (i.module for i in imports_of(ROOT / "payments" / name)):
            assert not module.startswith(("ledger.usecases", "ledger.api", "ledger.events", "ledger.store"))


def test_loading_every_use_case_and_payments_does_not_load_stripe() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib, pkgutil, sys\n"
            "for package in ('ledger.usecases', 'ledger.payments', 'ledger.api'):\n"
            "    for found in pkgutil.iter_modules(importlib.import_module(package).__path__):\n"
            "        importlib.import_module(f'{package}.{found.name}')\n"
            "print('stripe' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT.parent,
    )
    assert loaded.stdout.strip() == "False"


# What a deployed function can import besides the standard library and the ledger: the layer's requirements
# (layers/ledger/requirements.txt) and the boto3 the Lambda runtime provides.
DEPLOYED = {"pydantic", "pydantic_core", "stripe", "boto3", "botocore"}
FUNCTIONS = sorted((ROOT.parents[2] / "functions").glob("*/app.py"))


@pytest.mark.parametrize("path", [*modules(), *FUNCTIONS], ids=lambda p: str(p.relative_to(ROOT.parents[2])))
def test_what_runs_in_lambda_imports_only_what_the_layer_ships(path: Path) -> None:
    """The dev environment has more (Powertools, moto, localstripe): an import of one of those at run time
    passes every test here and fails in Lambda. Powertools is read only when the OpenAPI document is made."""
    shipped = (ROOT.parent / "requirements.txt").read_text().split()
    assert {line.split("==")[0] for line in shipped} == {"pydantic", "stripe"}
    for found in imports_of(path):
        top = found.module.split(".")[0]
        if top in sys.stdlib_module_names or top in ("ledger", "app") or not found.eager:
            continue
        assert top in DEPLOYED, f"line {found.line}: `{found.statement}` is not in the layer"
    deferred = {i.module.split(".")[0] for i in imports_of(path) if not i.eager}
    if "aws_lambda_powertools" in deferred:
        assert path == ROOT / "api" / "router.py", "Powertools is a dev dependency: for the document only"

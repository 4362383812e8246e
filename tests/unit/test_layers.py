"""The layer's packages depend one way: a module imports only its own layer and the layers under it.

    domain, settings                        pure rules (domain imports nothing of ours but domain) and the
                                            deployment's settings
    store, journal, payments, events,       adapters (DynamoDB, Stripe, EventBridge, Lambda's logs and
    runtime                                 metrics): domain and each other
    usecases                                one module per operation: adapters and domain
    api, notifications, ledger/__init__.py  what the functions call: use cases and everything under them

So no adapter reaches up into a use case, and the rules stay where every layer can read them. A new module
outside these packages fails here until it is given a layer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "layers" / "ledger" / "ledger"

# The first dotted parts under ``ledger`` that name a layer, and its rank (a module may import its own rank or
# any lower one; domain may import only itself).
LAYERS: dict[str, int] = {
    "domain": 0,
    "settings": 0,  # the environment, read in one place: anything but domain may import it
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


def imports_of(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, module, statement) of every ``ledger`` import in the file, wherever it is (in a function, under
    TYPE_CHECKING)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found = [(alias.name, f"import {alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from ledger import usecases`` imports the package ``ledger.usecases``
            found = [
                (f"{base}.{alias.name}" if base == "ledger" else base, f"from {base} import {alias.name}")
                for alias in node.names
            ]
        else:
            continue
        for name, statement in found:
            if name == "ledger" or name.startswith("ledger."):
                yield node.lineno, name, statement


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
    for line, name, statement in imports_of(path):
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

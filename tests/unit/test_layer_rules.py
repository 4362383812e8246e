"""The layer's import rules: Stripe is spoken to only in payments, and only when a request needs it (the cold
start of every function that never charges stays free of its import); the domain is pure Python."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LEDGER = Path(__file__).resolve().parents[2] / "layers" / "ledger" / "ledger"
MODULES = sorted(p for p in LEDGER.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Every module the file imports, and whether the import runs when the file is imported (at its top level,
    outside ``if TYPE_CHECKING``)."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, eager: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, eager) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append((child.module, eager))
            else:
                deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                    isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
                )
                visit(child, eager and not deferred)

    visit(ast.parse(path.read_text()), True)
    return found


def _name(path: Path) -> str:
    return ".".join(path.relative_to(LEDGER.parent).with_suffix("").parts)


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_payments_imports_stripe_and_only_inside_what_uses_it(path: Path) -> None:
    stripe = [(module, eager) for module, eager in _imports(path) if module.split(".")[0] == "stripe"]
    if not _name(path).startswith("ledger.payments."):
        assert stripe == []
    else:
        assert not any(eager for _, eager in stripe)


@pytest.mark.parametrize("path", sorted((LEDGER / "domain").glob("*.py")), ids=_name)
def test_the_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for module, _ in _imports(path):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or module.startswith("ledger.domain"), module
        assert top != "os", "the domain reads no environment: its callers pass what it needs"


def test_the_stripe_seam_knows_nothing_of_use_cases() -> None:
    for name in ("gateway.py", "stripe_api.py"):
        for module, _ in _imports(LEDGER / "payments" / name):
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
        cwd=LEDGER.parent,
    )
    assert loaded.stdout.strip() == "False"

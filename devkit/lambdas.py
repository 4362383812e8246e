"""Loading a function's handler module and calling it as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from credits_local.functions import LambdaContext
from credits_local.template import ROOT


@cache
def function_module(directory: str) -> ModuleType:
    """functions/<directory>/app.py, imported under a unique name (every function's module is app.py)."""
    path = ROOT / "functions" / directory / "app.py"
    name = f"function_{directory}"
    spec = importlib.util.spec_from_file_location(name, Path(path))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def invoke(directory: str, event: dict[str, Any], context: LambdaContext | None = None) -> Any:
    return function_module(directory).handler(event, context or LambdaContext())


def call(
    directory: str,
    method: str,
    route: str,
    path_parameters: dict[str, str],
    body: Any = None,
    claims: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """An HTTP route of a function, as API Gateway calls it: its status and parsed body."""
    from devkit.http import http_event, parse

    return parse(invoke(directory, http_event(method, route, path_parameters, body, claims=claims)))

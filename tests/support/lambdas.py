"""Loading a function's handler module and calling it as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.support.template import ROOT


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


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

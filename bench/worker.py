"""One fresh interpreter: import a handler module, serve one invocation (the cold start), then optionally
time warm invocations of it and of a comparison handler, interleaved. Standard library only before timing.

    python bench/worker.py SPEC.json RESULT.json
"""

import importlib.util
import json
import sys
import time


class Context:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class OnlyTheLayer:
    """Refuses the installed modules a deployed function would not have (see ``timing.not_in_layer``), as an
    import of a missing package fails in Lambda: libraries that look for optional packages then go without."""

    def __init__(self, absent):
        self.absent = set(absent)

    def find_spec(self, name, path=None, target=None):
        if path is None and name in self.absent:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    if "not_in_layer" in spec:
        sys.meta_path.insert(0, OnlyTheLayer(spec["not_in_layer"]))
    event, context = spec["event"], Context(spec.get("remaining_ms", 10_000))

    started = time.perf_counter()
    handler = getattr(load(spec["path"], "app"), spec["handler"])
    imported = time.perf_counter()
    handler(event, context)
    served = time.perf_counter()
    warm_ms: list[float] = []
    compare_ms: list[float] = []
    result = {
        "import_ms": (imported - started) * 1e3,
        "cold_ms": (served - started) * 1e3,
        "warm_ms": warm_ms,
    }

    compare = spec.get("compare")
    if spec.get("warm"):
        other = None
        if compare:
            module = load(compare["path"], "bare")
            module.CALLS = [(c["service"], c["operation"], c["request"]) for c in compare["calls"]]
            other = getattr(module, compare["handler"])
            other(event, context)
            result["compare_ms"] = compare_ms
        for _ in range(spec["warm"]):
            t = time.perf_counter()
            handler(event, context)
            warm_ms.append((time.perf_counter() - t) * 1e3)
            if other:
                t = time.perf_counter()
                other(event, context)
                compare_ms.append((time.perf_counter() - t) * 1e3)
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

"""Function instances of the local stack: each a process with the function's own environment, one call at a
time; more instances when calls overlap; failures and timeouts reported as Lambda reports them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from credits_local.functions import FunctionError, FunctionPool, FunctionSpec

CODE = Path(__file__).parent / "instance_code"


def spec(handler: str, timeout: int = 10, **environment: str) -> FunctionSpec:
    return FunctionSpec(
        logical_id=f"{handler.title()}Function",
        name=f"local-{handler}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:local-{handler}",
        handler=f"app.{handler}",
        code_dir=str(CODE),
        layer_dirs=[],
        environment={"PATH": os.environ["PATH"], **environment},
        timeout=timeout,
        memory=128,
    )


@pytest.fixture
def pools() -> Iterator[list[FunctionPool]]:
    made: list[FunctionPool] = []
    yield made
    for pool in made:
        pool.stop()


def pool_of(pools: list[FunctionPool], function: FunctionSpec) -> FunctionPool:
    pools.append(FunctionPool(function))
    return pools[-1]


def test_each_function_sees_its_own_environment(pools: list[FunctionPool]) -> None:
    first = pool_of(pools, spec("echo", SELF="first"))
    second = pool_of(pools, spec("echo", SELF="second"))
    assert first.invoke({"n": 1}) | {"pid": 0} == {
        "pid": 0,
        "self": "first",
        "function": "local-echo",
        "event": {"n": 1},
    }
    assert second.invoke({})["self"] == "second"
    assert "SELF" not in os.environ
    assert first.invoke({})["pid"] == first.invoke({})["pid"]  # one instance serves calls one after another
    assert first.size == 1


def test_overlapping_calls_run_in_separate_instances(pools: list[FunctionPool]) -> None:
    pool = pool_of(pools, spec("slow"))
    start = threading.Barrier(3)

    def call(_: int) -> int:
        start.wait()
        return int(pool.invoke({"seconds": 1})["pid"])

    with ThreadPoolExecutor(3) as threads:
        pids = set(threads.map(call, range(3)))
    assert len(pids) == 3 and pool.size == 3


def test_a_failing_handler_reports_its_error_and_the_instance_lives_on(pools: list[FunctionPool]) -> None:
    pool = pool_of(pools, spec("fail"))
    with pytest.raises(FunctionError) as failed:
        pool.invoke({"n": 1})
    assert failed.value.payload() == {"errorType": "ValueError", "errorMessage": "cannot take {'n': 1}"}
    assert "Traceback" in failed.value.trace
    with pytest.raises(FunctionError):
        pool.invoke({})
    assert pool.size == 1


def test_a_call_past_the_timeout_ends_its_instance(pools: list[FunctionPool]) -> None:
    pool = pool_of(pools, spec("slow", timeout=1))
    with pytest.raises(FunctionError) as timed_out:
        pool.invoke({"seconds": 30})
    assert timed_out.value.payload() == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1 seconds",
    }
    assert pool.size == 0
    assert 0 < pool.invoke({"seconds": 0})["remaining_ms"] <= 1000


def test_a_handler_that_cannot_be_imported_is_an_init_error(pools: list[FunctionPool]) -> None:
    pool = pool_of(pools, spec("missing"))
    with pytest.raises(FunctionError) as broken:
        pool.invoke({})
    assert broken.value.error_type.startswith("Runtime.ImportModuleError")

"""Lambda functions run locally: each instance is its own process serving one invocation at a time.

Like Lambda, a function scales out by adding instances: a call takes an idle instance or starts a new one.
An instance is a process forked from a server that has the common libraries imported already, so it starts
in a few tens of milliseconds and gets, as in Lambda, its own environment (``os.environ`` is the
function's, exactly), its own module state (a Powertools resolver keeps the current event on a class
attribute, so two requests must never share a process) and its own copy of the layer.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from credits_local.children import ignore_interrupts

# Imported once in the server that forks the instances; a module missing here is skipped.
PRELOAD = [
    "boto3",
    "botocore.session",
    "pydantic",
    "pydantic.main",
    "pydantic.type_adapter",
]

_forkserver = multiprocessing.get_context("forkserver")
_forkserver.set_forkserver_preload(PRELOAD)

STARTUP_TIMEOUT = 60.0


def start_forkserver() -> None:
    """Start the server that forks instances now (it imports PRELOAD), rather than on the first call."""
    multiprocessing.forkserver.ensure_running()


def stop_forkserver() -> None:
    """Stop that server now (it would exit by itself once this process is gone). Its ``_stop`` is what the
    standard library's own tests use; without it, nothing is lost but the wait."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    if server is not None and hasattr(server, "_stop"):
        server._stop()


@dataclass
class LambdaContext:
    """The context object handlers receive (the attributes Powertools and handlers read)."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "local"
    remaining_ms: int = 10_000  # when the invocation began
    began: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.remaining_ms - int((time.monotonic() - self.began) * 1000))


@dataclass(frozen=True)
class FunctionSpec:
    """What an instance needs to run a function: picklable, sent to the forked process."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: str
    layer_dirs: list[str]
    environment: dict[str, str]
    timeout: int
    memory: int


class FunctionError(RuntimeError):
    """The function failed: its handler raised, it timed out, or it could not start."""

    def __init__(self, error_type: str, message: str, trace: str = "") -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message, self.trace = error_type, message, trace

    def payload(self) -> dict[str, Any]:
        """What Lambda returns for a failed invocation."""
        return {"errorType": self.error_type, "errorMessage": self.message}


def _serve(connection: Connection, spec: FunctionSpec) -> None:
    """An instance: take the function's environment, import its handler, then serve invocations."""
    ignore_interrupts()
    os.environ.clear()
    os.environ.update(spec.environment)
    sys.path[:0] = [spec.code_dir, *spec.layer_dirs]
    try:
        module_name, _, attribute = spec.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:
        connection.send(("error", (type(error).__name__, str(error), traceback.format_exc())))
        return
    connection.send(("ready", None))
    while True:
        try:
            event, request_id = connection.recv()
        except EOFError:
            return
        context = LambdaContext(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory,
            invoked_function_arn=spec.arn,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
            remaining_ms=spec.timeout * 1000,
        )
        try:
            result = handler(event, context)
        except Exception as error:
            trace = traceback.format_exc()
            print(trace, file=sys.stderr, flush=True)
            connection.send(("error", (type(error).__name__, str(error), trace)))
        else:
            connection.send(("ok", result))


class Instance:
    """One running instance of a function."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.connection, child_end = _forkserver.Pipe()
        self.process = _forkserver.Process(
            target=_serve, args=(child_end, spec), name=f"{spec.logical_id}-instance", daemon=True
        )
        self.process.start()
        child_end.close()
        try:
            self._expect_ready()
        except BaseException:
            self.stop()
            raise

    def _expect_ready(self) -> None:
        if not self.connection.poll(STARTUP_TIMEOUT):
            raise FunctionError("Runtime.InitError", f"{self.spec.logical_id} did not start in time")
        try:
            status, detail = self.connection.recv()
        except EOFError:
            raise FunctionError(
                "Runtime.InitError", f"{self.spec.logical_id} exited while starting"
            ) from None
        if status != "ready":
            raise FunctionError(f"Runtime.ImportModuleError: {detail[0]}", detail[1], detail[2])

    def invoke(self, event: Any) -> Any:
        """Run the handler once. Raises FunctionError; after a timeout the instance is stopped."""
        self.connection.send((event, str(uuid.uuid4())))
        if not self.connection.poll(self.spec.timeout + 1):
            self.stop()
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {self.spec.timeout} seconds")
        try:
            status, detail = self.connection.recv()
        except EOFError:
            self.stop()
            raise FunctionError("Runtime.ExitError", "the instance exited during the invocation") from None
        if status == "ok":
            return detail
        raise FunctionError(*detail)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        self.connection.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class FunctionPool:
    """The instances of one function: an idle one serves the next call, else a new one starts."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._idle: list[Instance] = []
        self._all: set[Instance] = set()
        self._stopped = False

    def _take(self) -> Instance:
        with self._lock:
            if self._stopped:
                raise FunctionError("Runtime.Stopped", "the local stack is stopping")
            while self._idle:
                instance = self._idle.pop()
                if instance.alive:
                    return instance
                self._all.discard(instance)
        instance = Instance(self.spec)
        with self._lock:
            self._all.add(instance)
            if self._stopped:
                instance.stop()
                raise FunctionError("Runtime.Stopped", "the local stack is stopping")
        return instance

    def warm(self) -> None:
        """Start one instance ahead of the first call."""
        self._give_back(self._take())

    def _give_back(self, instance: Instance) -> None:
        with self._lock:
            if instance.alive and not self._stopped:
                self._idle.append(instance)
            else:
                self._all.discard(instance)
                instance.stop()

    def invoke(self, event: Any) -> Any:
        instance = self._take()
        try:
            return instance.invoke(event)
        finally:
            self._give_back(instance)

    @property
    def size(self) -> int:
        return len(self._all)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            instances, self._all, self._idle = list(self._all), set(), []
        for instance in instances:
            instance.stop()

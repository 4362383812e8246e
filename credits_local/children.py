"""Child processes of the stack: started with the running Python, report their port on stdout, stopped on exit.

Each child ignores SIGINT (a Ctrl-C in the terminal reaches the whole process group): the stack stops its
children itself, in order, and waits for them."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO


class ChildError(RuntimeError):
    """A child did not start."""


def ignore_interrupts() -> None:
    """For a child's first line: leave Ctrl-C to the stack, which stops its children in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def report_port(port: int) -> None:
    """For a child: tell the parent where it listens (the parent waits for this line)."""
    print(port, flush=True)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


def _read_port(name: str, process: subprocess.Popen[str], deadline: float) -> int:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.strip().isdigit():
                return int(line)
            if line:
                raise ChildError(f"{name}: unexpected output instead of its port: {line!r}")
        if process.poll() is not None:
            raise ChildError(f"{name} exited with status {process.returncode}")
    raise ChildError(f"{name} did not report its port in time")


def _wait_until_answering(name: str, url: str, process: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildError(f"{name} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer will do
        except OSError:
            time.sleep(0.05)
    raise ChildError(f"{name}: {url} did not answer in time")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


class Launch:
    """A child started with ``python -m module *args``; ``ready()`` waits for its port and first HTTP answer.

    Its stderr goes to a temporary file, shown if it fails to start."""

    def __init__(
        self,
        name: str,
        module: str,
        args: list[str],
        probe_path: str = "/",
        env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.probe_path = name, probe_path
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def ready(self, startup_timeout: float = 30.0) -> Child:
        try:
            deadline = time.monotonic() + startup_timeout
            port = _read_port(self.name, self.process, deadline)
            _wait_until_answering(
                self.name, f"http://127.0.0.1:{port}{self.probe_path}", self.process, deadline
            )
        except ChildError as error:
            self.errors.seek(0)
            raise ChildError(f"{error}\n{_tail(self.errors)}") from None
        return Child(self.name, self.process, port)

    def stop(self) -> None:
        stop(self.process)
        self.errors.close()


@contextmanager
def child(
    name: str, module: str, args: list[str], probe_path: str = "/", env: dict[str, str] | None = None
) -> Iterator[Child]:
    """A ``Launch``, yielded once ready and stopped (and waited for) on exit."""
    launch = Launch(name, module, args, probe_path, env)
    try:
        yield launch.ready()
    finally:
        launch.stop()


def _tail(stream: IO[str]) -> str:
    return stream.read()[-4000:]

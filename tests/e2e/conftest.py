"""The local stack started as it is run (``credits-local up`` in a child process, on free ports, with its own
state directory), and clients that talk to it over HTTP only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from credits_local.authorizers import JwtSettings, mint_token, sign_request
from credits_local.state import RunningStack, ServiceCredential, StateDir
from credits_local.template import ROOT

CLI = Path(sys.executable).parent / "credits-local"
ADMIN = CLI.parent / "credits-admin"
JWT = JwtSettings("https://auth.example.com/", "prepaid-credits")  # template.yaml's defaults
STARTUP_TIMEOUT = 90.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stack:
    """A running ``credits-local up``: its process, its output, and HTTP clients for its gateway."""

    process: subprocess.Popen[str]
    state: StateDir
    stderr_path: Path
    stdout_lines: list[str] = field(default_factory=list)

    @property
    def running(self) -> RunningStack:
        return self.state.running_stack()

    @property
    def url(self) -> str:
        return self.running.gateway_url

    @property
    def service(self) -> ServiceCredential:
        return self.state.service_credential()

    def env(self) -> dict[str, str]:
        """The environment a shell needs to reach this stack with credits-local."""
        return {**os.environ, "CREDITS_LOCAL_STATE_DIR": str(self.state.path)}

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], capture_output=True, text=True, env=self.env(), timeout=120, check=check
        )

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """credits-admin against this stack (its exit status is the caller's to check)."""
        return subprocess.run(
            [str(ADMIN), *args], capture_output=True, text=True, env=self.env(), timeout=120, check=False
        )

    def token(self, account: str, role: str = "owner", expires_in: int = 3600) -> str:
        claims = {"sub": f"user-of-{account}", "custom:account_id": account, "custom:role": role}
        return mint_token(self.state.signing_key(), JWT, claims, expires_in)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        request = urllib.request.Request(
            self.url + path, data=body or None, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, _json(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _json(error.read()), dict(error.headers))

    def account(self, method: str, path: str, token: str, payload: Any = None) -> Reply:
        """An account route, with the bearer token."""
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        return self.request(method, path, body, headers)

    def service_call(self, method: str, path: str, payload: Any = None) -> Reply:
        """A service route, SigV4-signed with the local service credential as the SaaS back end signs."""
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = sign_request(
            self.service, method, self.url + path, body, {"content-type": "application/json"}
        )
        return self.request(method, path, body, headers)

    def history(self, account: str, expected: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The account's history once the journal, fed from the table's stream, has written ``expected``
        entries (or what it holds after ``timeout``)."""
        token, deadline = self.token(account), time.monotonic() + timeout
        while True:
            reply = self.account("GET", f"/accounts/{account}/transactions?limit=200", token)
            assert reply.status == 200, reply.body
            if len(reply.body["items"]) >= expected or time.monotonic() > deadline:
                return list(reply.body["items"])
            time.sleep(0.1)

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_for_log(self, text: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return True
            time.sleep(0.1)
        return False


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode(errors="replace")


def start_stack(
    state_dir: Path, *args: str, command: list[str] | None = None, env: dict[str, str] | None = None
) -> Stack:
    """Start a stack (``credits-local up --port 0`` unless ``command`` says otherwise) and wait until ready.

    It runs in its own session, as a terminal's foreground job would, so a test can signal its whole
    process group and then look for anything left in the session."""
    stderr_path = state_dir / "stderr.log"
    state_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        command or [str(CLI), "up", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_path.open("w"),
        text=True,
        cwd=ROOT,
        env={**os.environ, "CREDITS_LOCAL_STATE_DIR": str(state_dir), **(env or {})},
        start_new_session=True,
    )
    stack = Stack(process, StateDir(state_dir), stderr_path)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.stdout_lines.append(line.rstrip("\n"))
            if line.startswith("ready in"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_stack(stack)
            raise AssertionError(f"the stack did not start:\n{stack.stdout_lines}\n{stack.stderr()[-4000:]}")
    return stack


def session_processes(session_id: int) -> list[int]:
    """Processes (not zombies) in a session."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session_id and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def stop_stack(stack: Stack, timeout: float = 30.0) -> int:
    """Ctrl-C, as a terminal sends it: SIGINT to the whole process group; wait for the stack to exit."""
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGINT)
    try:
        return stack.process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait()
        raise


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("credits-local"))
    yield running
    stop_stack(running)

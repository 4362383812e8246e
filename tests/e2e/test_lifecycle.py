"""Starting and stopping: Ctrl-C leaves nothing behind; a second stack on a taken port or state stops at once."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, session_processes, start_stack, stop_stack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_ctrl_c_on_make_dev_leaves_no_process_and_no_port(tmp_path: Path) -> None:
    port = free_port()
    stack = start_stack(tmp_path / "state", command=["make", "dev"], env={"CREDITS_LOCAL_PORT": str(port)})
    running = stack.running
    assert running.gateway_url == f"http://127.0.0.1:{port}"
    # a call starts function instances, a write feeds the stream poller
    assert (
        stack.service_call(
            "POST", "/accounts/ctrl-c/usage", {"amount": 1, "operation": "x", "idempotency_key": "k"}
        ).status
        == 402
    )
    assert stack.account("GET", "/accounts/ctrl-c/balance", stack.token("ctrl-c")).status == 200
    urls = [running.gateway_url, running.moto_url, running.stripe_url]
    assert all(listening(url) for url in urls)
    assert (
        len(session_processes(stack.process.pid)) > 3
    )  # make, the stack, the engine, localstripe, instances

    stop_stack(stack)

    deadline = time.monotonic() + 10
    while session_processes(stack.process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(stack.process.pid) == []
    assert not any(listening(url) for url in urls)
    assert "credits-local: stopped" in stack.stdout_lines
    assert not (tmp_path / "state" / "stack.json").exists()


@pytest.mark.parametrize("same", ["port", "state"])
def test_a_second_stack_on_the_same_port_or_state_stops_at_once(
    stack: Stack, tmp_path: Path, same: str
) -> None:
    port = stack.url.rsplit(":", 1)[1]
    state = str(stack.state.path) if same == "state" else str(tmp_path / "other-state")
    second = stack.cli("--state-dir", state, "up", "--port", port if same == "port" else "0", check=False)
    assert second.returncode == 1
    expected = (
        f"port {port} on 127.0.0.1 is already in use"
        if same == "port"
        else "a local stack is already running"
    )
    assert expected in second.stderr
    assert stack.account("GET", "/accounts/still-up/balance", stack.token("still-up")).status == 200

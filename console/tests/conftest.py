"""Browser tests of the credits console: Debian's Chromium, driven by Playwright, against the local stack.

The components are loaded by a host page served from its own origin (a static server here, as a SaaS serves
its console), and call the stack's gateway on another origin, allowed by the ``ConsoleOrigins`` parameter.
Each test leaves screenshots in ``console/test-results/<test name>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

CONSOLE = Path(__file__).resolve().parents[1]
RESULTS = CONSOLE / "test-results"
AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000  # generous: two cores shared with the stack's processes and other work
PUBLISHABLE_KEY = "pk_test_local"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _need(path: Path | str, how: str) -> None:
    if not Path(path).exists():
        message = f"{path} is missing: {how}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("cache-control", "no-store")
        super().end_headers()


@pytest.fixture(scope="session")
def host_origin() -> Iterator[str]:
    """The SaaS's console: a static server on its own origin with the host page and the bundle."""
    root = Path(tempfile.mkdtemp(prefix="console-host-"))
    shutil.copy(CONSOLE / "credits-console.js", root / "credits-console.js")
    shutil.copy(CONSOLE / "tests" / "host.html", root / "index.html")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory, host_origin: str) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("credits-console"), "--parameter", f"ConsoleOrigins={host_origin}"
    )
    yield running
    stop_stack(running)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    _need(CHROMIUM, "make browser installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as driver:
        yield driver


@dataclass
class Console:
    """One test's browser (a fresh profile), its page, and helpers to drive the console."""

    stack: Stack
    host: str
    page: Any
    results: Path
    shots: list[Path] = field(default_factory=list)

    def stripe_js(self) -> str:
        return f"{self.stack.running.stripe_url}/js.stripe.com/v3/"

    def open(self, account: str, role: str = "owner", locale: str = "en-US") -> None:
        """The host page, signed in as ``role`` of ``account`` (the host passes its user's token)."""
        settings = {
            "api": self.stack.url,
            "account": account,
            "token": self.stack.token(account, role),
            "stripe_js": self.stripe_js(),
            "stripe_key": PUBLISHABLE_KEY,
            "locale": locale,
        }
        self.page.goto(f"{self.host}/#{urlencode(settings)}")
        self.page.evaluate("() => { window.__sameDocument = true; }")

    def same_document(self) -> bool:
        return bool(self.page.evaluate("() => window.__sameDocument === true"))

    def shot(self, name: str) -> Path:
        path = self.results / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def field(self, element: str, name: str) -> Any:
        return self.page.locator(f'{element} [data-field="{name}"]')

    def wait_text(self, locator: Any, text: str) -> None:
        """Until the locator's text is exactly ``text`` (the components reload as events arrive)."""
        from playwright.sync_api import expect

        expect(locator).to_have_text(text, timeout=WAIT_MS)

    def axe(self, exclude: list[str] | None = None) -> list[dict[str, Any]]:
        """axe-core's violations of serious or critical impact on the page as it is."""
        _need(AXE, "make browser installs axe-core (npm ci in console/)")
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        options = {"exclude": [[s] for s in (exclude or [])]}
        result = self.page.evaluate(
            """async (context) => {
                const r = await axe.run(context.exclude.length ? context : document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }""",
            {"include": [["html"]], **options},
        )
        (self.results / f"axe-{len(self.shots):02d}.json").write_text(json.dumps(result, indent=2))
        return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.fixture
def console(
    request: pytest.FixtureRequest, playwright_driver: Any, console_stack: Stack, host_origin: str
) -> Iterator[Console]:
    results = RESULTS / request.node.name
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    context = playwright_driver.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        timezone_id="UTC",
        accept_downloads=True,
    )
    context.set_default_timeout(WAIT_MS)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log = (results / "console.log").open("w")
    page.on("console", lambda message: log.write(f"{message.type}: {message.text}\n"))
    driver = Console(console_stack, host_origin, page, results)
    try:
        yield driver
        assert not errors, f"errors in the page: {errors}"
    finally:
        with contextlib.suppress(Exception):
            driver.shot("end")
        log.close()
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def account() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}"


def service(stack: Stack, method: str, path: str, payload: Any) -> Any:
    reply = stack.service_call(method, path, payload)
    assert reply.status in (200, 201), reply.body
    return reply.body


def grant(stack: Stack, account: str, amount: int) -> Any:
    return service(
        stack,
        "POST",
        f"/accounts/{account}/grants",
        {"amount": amount, "source": "promotional", "idempotency_key": uuid.uuid4().hex},
    )


def debit(stack: Stack, account: str, amount: int, operation: str = "render") -> Any:
    return service(
        stack,
        "POST",
        f"/accounts/{account}/usage",
        {"amount": amount, "operation": operation, "idempotency_key": uuid.uuid4().hex},
    )


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2) -> Any:
    """The first truthy result of ``check`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

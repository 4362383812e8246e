"""localstripe for tests: its own store file, and the PaymentIntent parameters our purchases send.

localstripe hard-codes /tmp/localstripe.pickle and refuses parameters it does not model
(``setup_future_usage``, ``description``); this launcher patches both before starting it, so two runs never
share a store and our real requests go through unchanged.

    python -m tests.support.localstripe --port 8420 --store /tmp/x.pickle
"""

from __future__ import annotations

import argparse
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _patch(store_path: str) -> None:
    import localstripe.resources as resources

    def load(self: dict) -> None:
        try:
            with open(store_path, "rb") as f:
                self.clear()
                self.update(pickle.load(f))
        except FileNotFoundError:
            pass

    def dump(self: dict) -> None:
        with open(store_path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = load  # type: ignore[attr-defined]
    resources.Store.dump_to_disk = dump  # type: ignore[attr-defined]
    original = resources.PaymentIntent.__init__

    def init(self, *args, setup_future_usage=None, description=None, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.setup_future_usage = setup_future_usage
        self.description = description

    resources.PaymentIntent.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args()
    _patch(args.store)
    from localstripe.server import start

    sys.argv = ["localstripe", "--port", str(args.port), "--from-scratch"]
    start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(tmp: Path) -> Iterator[str]:
    """A localstripe on a free port; yields its base URL."""
    port = free_port()
    log = (tmp / "localstripe.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.localstripe",
            "--port",
            str(port),
            "--store",
            str(tmp / "ls.pickle"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "localstripe.log").read_text()) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


if __name__ == "__main__":
    main()

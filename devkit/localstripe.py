"""localstripe for tests: the local stack's launcher (its own store file, our PaymentIntent parameters)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from credits_local.localstripe_server import localstripe_process


@contextmanager
def running(tmp: Path) -> Iterator[str]:
    """A localstripe on a free port, its store in ``tmp``; yields its base URL."""
    with localstripe_process(tmp / "localstripe.pickle") as process:
        yield process.url

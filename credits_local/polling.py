"""A thread that polls a source until stopped: again at once while there is work, after a pause when not."""

from __future__ import annotations

import sys
import threading

POLL_INTERVAL = 0.25


class Poller(threading.Thread):
    """Subclasses say what one poll does (``poll``, returning how much it found) and what it is (``what``)."""

    def __init__(
        self, name: str, stopping: threading.Event | None = None, interval: float = POLL_INTERVAL
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = stopping or threading.Event()
        self.interval = interval

    def poll(self) -> int:
        raise NotImplementedError

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll()
            except Exception as error:  # the engine going away while stopping, or a bad record
                if self.stopping.is_set():
                    return
                print(f"{self.name}: poll failed: {error}", file=sys.stderr, flush=True)
                busy = 0
            if not busy:
                self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()

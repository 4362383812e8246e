"""How hard the slow tests press: the state machines' examples and the races' operations per thread.

``make test`` runs them at everyday depth, to answer in minutes; ``make test-deep`` (``LEDGER_TEST_DEPTH=deep``,
run by CI after ``make test``) runs the same tests with their full numbers. Both depths check the same
assertions: the deep run only draws more examples and lets more operations race."""

from __future__ import annotations

import os

DEEP = os.environ.get("LEDGER_TEST_DEPTH", "everyday") == "deep"


def depth(everyday: int, deep: int) -> int:
    """``deep`` in the deep run, else ``everyday``."""
    return deep if DEEP else everyday

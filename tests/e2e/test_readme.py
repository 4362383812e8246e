"""The README's walkthrough, run verbatim with bash against a running stack."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

from credits_local.template import ROOT
from tests.e2e.conftest import Stack


def walkthrough() -> str:
    """The first sh block under the README's "### Walkthrough" heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Walkthrough") :]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found, "no sh block under ### Walkthrough"
    return found.group(1)


def json_values(text: str) -> list[Any]:
    """The JSON documents curl printed one after another."""
    decoder, values, index = json.JSONDecoder(), [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        values.append(value)
    return values


def test_the_readme_walkthrough_works_verbatim(stack: Stack) -> None:
    script = walkthrough()
    assert "credits-local token --account acme" in script and "curl" in script
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=stack.env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    granted, debited, captured, batch, card, history = json_values(done.stdout)
    assert granted["balance"] == 1000
    assert debited["balance"] == 975
    assert (captured["captured"], captured["released"], captured["balance"]) == (60, 40, 915)
    accepted, refused = batch["results"]
    assert (accepted["status"], accepted["balance"], accepted["entry"]["amount"]) == ("accepted", 910, -5)
    assert (refused["status"], refused["available"], refused["requested"]) == (
        "insufficient_credits",
        910,
        5000,
    )
    assert (card["balance"], card["available"]) == (910, 910)
    assert [(e["type"], e["balance_after"]) for e in history["items"]] == [
        ("consumption", 910),
        ("capture", 915),
        ("hold", 975),
        ("consumption", 975),
        ("grant", 1000),
    ]

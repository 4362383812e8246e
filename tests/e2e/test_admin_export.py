"""credits-admin export against the running local stack, and the export route through its gateway."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path

from tests.e2e.conftest import Stack


def test_admin_export_writes_the_whole_history_and_the_route_pages_it(stack: Stack, tmp_path: Path) -> None:
    account = "export-e2e"
    granted = stack.service_call(
        "POST",
        f"/accounts/{account}/grants",
        {"amount": 100, "source": "promotional", "idempotency_key": "g"},
    )
    assert granted.status == 201, granted.body
    for n in range(1, 4):
        metadata = {"note": f'job {n}, "quoted"\nline two'}
        body = {"amount": n, "operation": "render", "idempotency_key": f"d{n}", "metadata": metadata}
        assert stack.service_call("POST", f"/accounts/{account}/usage", body).status == 201
    history = stack.history(account, 4)[::-1]  # oldest first
    assert len(history) == 4

    out = tmp_path / "history.csv"
    done = stack.admin("export", "--account", account, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "exported 4 entries" in done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [(r["id"], int(r["balance_after"])) for r in rows] == [
        (e["id"], e["balance_after"]) for e in history
    ]
    assert json.loads(rows[1]["metadata"]) == history[1]["metadata"]

    jsonl = stack.admin(
        "export", "--account", account, "--format", "jsonl", "--from", history[2]["created_at"]
    )
    assert jsonl.returncode == 0, jsonl.stderr
    assert [json.loads(line)["id"] for line in jsonl.stdout.splitlines()] == [e["id"] for e in history[2:]]

    # the gateway passes the route's headers through: content type, file name, the next page's cursor
    request = urllib.request.Request(
        f"{stack.url}/accounts/{account}/transactions/export?format=jsonl",
        headers={"authorization": f"Bearer {stack.token(account)}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        assert (
            response.headers["content-disposition"] == f'attachment; filename="{account}-transactions.jsonl"'
        )
        assert response.headers["x-next-cursor"] is None
        assert [json.loads(line)["id"] for line in response.read().decode().splitlines()] == [
            e["id"] for e in history
        ]


def test_admin_export_refuses_bad_times(stack: Stack) -> None:
    bad = stack.admin("export", "--account", "a", "--from", "yesterday")
    assert bad.returncode == 2 and "not an ISO 8601 time" in bad.stderr
    backwards = stack.admin(
        "export", "--account", "a", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"
    )
    assert backwards.returncode == 1 and "--to must be after --from" in backwards.stderr

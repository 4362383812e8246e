"""Write docs/events/<name>.json: the JSON Schema of every notification's detail, from the pydantic model of its
dataclass.

python scripts/event_schemas.py          # rewrite the schemas
python scripts/event_schemas.py --check  # exit 1 if any is out of date, missing or left over
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "ledger")]

from ledger.api.documented import model_of  # noqa: E402
from ledger.events.models import NOTIFICATIONS  # noqa: E402
from ledger.events.publisher import SOURCE  # noqa: E402

DIRECTORY = ROOT / "docs" / "events"


def render() -> dict[str, str]:
    """File name → text of every schema."""
    documents = {}
    for name, model in sorted(NOTIFICATIONS.items()):
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": f"EventBridge source {SOURCE!r}, detail-type {name!r}: the event's detail. "
            + " ".join((model.__doc__ or "").split()),
            **model_of(model).model_json_schema(mode="serialization"),
        }
        documents[f"{name}.json"] = json.dumps(schema, indent=2) + "\n"
    return documents


if __name__ == "__main__":
    documents = render()
    if "--check" in sys.argv:
        current = {p.name: p.read_text() for p in DIRECTORY.glob("*.json")}
        sys.exit(0 if current == documents else 1)
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in DIRECTORY.glob("*.json")) - documents.keys():
        (DIRECTORY / stale).unlink()
    for file_name, text in documents.items():
        (DIRECTORY / file_name).write_text(text)

"""Golden JSON schemas of every event, committed under ``contracts/schemas``.

``python -m contracts.schema_files`` rewrites them; a test fails when an event's shape drifts
from its committed schema without a ``schema_version`` bump.
"""

from __future__ import annotations

import json
from pathlib import Path

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES

SCHEMA_DIR = Path(__file__).with_name("schemas")


def schema_path(event_type: str, version: int) -> Path:
    return SCHEMA_DIR / f"{event_type}.v{version}.json"


def current_schemas() -> dict[Path, dict]:
    out = {SCHEMA_DIR / "Envelope.json": Envelope.model_json_schema()}
    for name, cls in EVENT_TYPES.items():
        out[schema_path(name, cls.schema_version)] = cls.model_json_schema()
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path, schema in current_schemas().items():
        path.write_text(render(schema))


if __name__ == "__main__":
    write_all()

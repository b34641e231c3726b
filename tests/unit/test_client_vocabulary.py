"""The client's own copy of the vocabulary (it is a distribution of its own and must not import
``contracts``) says what ``contracts`` says: event names, terminal events and statuses, formats, stages."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from contracts import formats
from contracts.events import EVENT_TYPES, TERMINAL_EVENT_TYPES, Stage
from contracts.statuses import STATUS_RANK, TERMINAL_STATUSES
from docling_jobs import cli, display, events, models

CLIENT = Path(events.__file__).resolve().parent
SERVER_PACKAGES = ("contracts", "services", "runtime", "devstack")


def test_the_client_knows_every_event_type() -> None:
    assert events.JOB_EVENT_TYPES == set(EVENT_TYPES)


def test_the_client_ends_on_the_same_events_and_statuses() -> None:
    assert events.TERMINAL_EVENTS == TERMINAL_EVENT_TYPES
    assert events.TERMINAL_STATUSES == TERMINAL_STATUSES


def test_the_client_downloads_the_stored_formats_under_the_servers_names() -> None:
    assert models.FORMATS == formats.STORED_FORMATS
    assert models.SUFFIXES == {fmt: formats.RESULT_SUFFIXES[fmt] for fmt in formats.STORED_FORMATS}
    assert tuple(cli.Format) == formats.STORED_FORMATS


def test_the_stages_the_client_infers_are_stages_or_statuses() -> None:
    assert set(display.EVENT_STAGES) <= set(EVENT_TYPES)
    assert set(display.EVENT_STAGES.values()) <= set(get_args(Stage)) | set(STATUS_RANK)


def test_the_client_imports_nothing_of_the_server() -> None:
    found = []
    for path in sorted(CLIENT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in SERVER_PACKAGES]
    assert found == []

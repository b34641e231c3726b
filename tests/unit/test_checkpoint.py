"""The checkpoint format: version 1 shape, size limit, parts beside it, migration."""

import json
from pathlib import Path

import pytest

from services.converter.checkpoint_format import (
    INLINE_LIMIT,
    MAX_BYTES,
    Checkpoint,
    CheckpointTooLarge,
    UnknownVersion,
    decode,
    encode,
    migrate,
)

FIXTURES = Path(__file__).with_name("fixtures")


def started() -> Checkpoint:
    return Checkpoint.start(1_702_345_678_000, "sha256:abc", "req-1")


def test_the_version_1_document_has_the_seed_fields() -> None:
    cp = (
        started()
        .converted("key-1", 60, 1_702_345_690_000)
        .exported("exporting_markdown", "markdown", "# T", 75, 1_702_345_691_000)
    )
    text, parts = encode(cp)
    doc = json.loads(text)
    assert parts == []
    assert doc == {
        "version": 1,
        "stage": "exporting_markdown",
        "progress": 75,
        "startedAt": 1_702_345_678_000,
        "lastUpdatedAt": 1_702_345_691_000,
        "partialResults": {"markdown": "# T", "html": None, "json": None},
        "metadata": {"mcpRequestId": "req-1", "fileHash": "sha256:abc", "documentKey": "key-1"},
    }
    assert decode(text, {}) == cp


def test_large_partial_results_go_beside_the_checkpoint() -> None:
    big = "x" * (INLINE_LIMIT + 1)
    cp = started().converted("k", 60, 1).exported("exporting_markdown", "markdown", big, 75, 2)
    text, parts = encode(cp)
    assert len(text.encode()) < 4096 and [p.fmt for p in parts] == ["markdown"]
    assert json.loads(text)["partialResults"]["markdown"]["storedBeside"] is True
    assert decode(text, {"markdown": big}) == cp


def test_a_missing_or_altered_part_is_dropped_so_its_stage_runs_again() -> None:
    big = "y" * (INLINE_LIMIT + 1)
    cp = started().exported("exporting_markdown", "markdown", big, 75, 2)
    text, _ = encode(cp)
    assert decode(text, {}).partial["markdown"] is None
    assert decode(text, {"markdown": big + "!"}).partial["markdown"] is None


def test_a_checkpoint_over_one_megabyte_is_refused() -> None:
    cp = started()
    cp = Checkpoint(
        cp.stage,
        cp.progress,
        cp.started_at,
        cp.last_updated_at,
        cp.partial,
        {**cp.metadata, "note": "z" * MAX_BYTES},
    )
    with pytest.raises(CheckpointTooLarge):
        encode(cp)


def test_three_results_just_under_the_inline_limit_still_fit() -> None:
    near = "w" * INLINE_LIMIT
    cp = started()
    for stage, fmt in (
        ("exporting_markdown", "markdown"),
        ("exporting_json", "json"),
        ("exporting_html", "html"),
    ):
        cp = cp.exported(stage, fmt, near, 90, 3)
    text, parts = encode(cp)
    assert parts == [] and len(text.encode()) <= MAX_BYTES


def test_version_0_is_migrated_to_version_1() -> None:
    old = json.loads((FIXTURES / "checkpoint_v0.json").read_text())
    assert "version" not in old
    cp = decode(json.dumps(old), {})
    assert (cp.stage, cp.progress, cp.started_at, cp.last_updated_at) == (
        "exporting_markdown",
        75,
        1_702_345_678_000,
        1_702_345_690_000,
    )
    assert cp.partial == {"markdown": "# Document Title\n\nBody.", "html": None, "json": None}
    assert cp.metadata == {
        "mcpRequestId": "550e8400-e29b-41d4-a716-446655440000",
        "fileHash": "sha256:abc123",
        "documentKey": "k1",
    }
    assert migrate(json.loads(encode(cp)[0]))["version"] == 1  # the current version is left as is


def test_a_newer_version_is_refused() -> None:
    with pytest.raises(UnknownVersion):
        decode(json.dumps({"version": 2, "stage": "converting"}), {})


@pytest.mark.parametrize(
    "broken",
    [
        {"version": 1, "stage": "nowhere", "progress": 5, "startedAt": 1, "lastUpdatedAt": 1},
        {"version": 1, "stage": "converting", "progress": 101, "startedAt": 1, "lastUpdatedAt": 1},
        {"version": 1, "stage": "converting", "progress": 5, "startedAt": "yesterday", "lastUpdatedAt": 1},
    ],
)
def test_invalid_checkpoints_are_refused(broken: dict) -> None:
    with pytest.raises(ValueError):
        decode(json.dumps(broken), {})

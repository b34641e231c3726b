"""contracts/keys.py (where keys are spelled), docs/redis-keys.md and CLAUDE.md's table agree."""

from __future__ import annotations

import inspect

from contracts import keys
from tests.redis_keys import as_regex, documented_patterns, runbook_patterns, unlisted

CHANNELS = {"sse_live"}  # pub/sub channels: documented apart, they store nothing


def key_builders() -> dict[str, str]:
    """Each key function of contracts.keys, called with placeholder arguments: name -> a key."""
    out = {}
    for name, fn in inspect.getmembers(keys, inspect.isfunction):
        if fn.__module__ == keys.__name__ and name not in CHANNELS:
            out[name] = fn(*["x-" + p for p in inspect.signature(fn).parameters])
    return out


def test_the_section_lists_the_seeds_keys() -> None:
    patterns = documented_patterns()
    for seed in (
        "session:{uuid}",
        "ratelimit:{sessionId}:{endpoint}",
        "sse:events:{jobId}",
        "circuit:{serviceName}",
    ):
        assert seed in patterns


def test_every_key_in_contracts_is_documented() -> None:
    built = key_builders()
    assert set(built) >= {"session", "ratelimit", "sse_events", "sse_history", "circuit"}
    assert unlisted(list(built.values()), documented_patterns()) == []


def test_every_documented_pattern_has_a_key_builder() -> None:
    built = list(key_builders().values())
    for pattern in documented_patterns():
        assert any(as_regex(pattern).match(key) for key in built), f"{pattern}: not in contracts/keys.py"


def test_the_matcher_can_fail() -> None:
    assert unlisted(
        ["session:abc", "sessions:abc", "ratelimit:x", "ratelimit:s:submit", "other"],
        ["session:{uuid}", "ratelimit:{sessionId}:{endpoint}"],
    ) == ["other", "ratelimit:x", "sessions:abc"]


def test_the_runbook_table_lists_the_same_patterns() -> None:
    assert sorted(runbook_patterns()) == sorted(documented_patterns())

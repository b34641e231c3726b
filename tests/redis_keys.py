"""The Redis key patterns the manual documents (docs/redis-keys.md in full, CLAUDE.md's table), as regexes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
MANUAL = ROOT / "docs" / "redis-keys.md"  # the full entries; CLAUDE.md has a table of them
RUNBOOK = ROOT / "CLAUDE.md"


def documented_patterns(manual: Path = MANUAL) -> list[str]:
    """Every ``- Pattern: `...` `` line of the "Redis Key Patterns" section, as written."""
    text = manual.read_text()
    section = text.split("\n## Redis Key Patterns\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- Pattern: `([^`]+)`", section, flags=re.MULTILINE)


def runbook_patterns(manual: Path = RUNBOOK) -> list[str]:
    """The first column of CLAUDE.md's "Redis Key Patterns" table (pub/sub channels left out)."""
    section = manual.read_text().split("\n## Redis Key Patterns\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)`( \(pub/sub)?", section, flags=re.MULTILINE)
    return [pattern for pattern, channel in rows if not channel]


def as_regex(pattern: str) -> re.Pattern[str]:
    """``session:{uuid}`` -> ``^session:.+$``: a ``{placeholder}`` stands for any non-empty text."""
    parts = re.split(r"\{[^{}]+\}", pattern)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$")


def unlisted(keys: list[str], patterns: list[str]) -> list[str]:
    regexes = [as_regex(p) for p in patterns]
    return sorted(k for k in keys if not any(r.match(k) for r in regexes))

"""The Redis key patterns CLAUDE.md documents, as regular expressions."""

from __future__ import annotations

import re
from pathlib import Path

MANUAL = Path(__file__).parents[1] / "CLAUDE.md"


def documented_patterns(manual: Path = MANUAL) -> list[str]:
    """Every ``- Pattern: `...` `` line of the "Redis Key Patterns" section, as written."""
    text = manual.read_text()
    section = text.split("\n## Redis Key Patterns\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- Pattern: `([^`]+)`", section, flags=re.MULTILINE)


def as_regex(pattern: str) -> re.Pattern[str]:
    """``session:{uuid}`` -> ``^session:.+$``: a ``{placeholder}`` stands for any non-empty text."""
    parts = re.split(r"\{[^{}]+\}", pattern)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$")


def unlisted(keys: list[str], patterns: list[str]) -> list[str]:
    regexes = [as_regex(p) for p in patterns]
    return sorted(k for k in keys if not any(r.match(k) for r in regexes))

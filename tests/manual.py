"""Reading the operations manual (CLAUDE.md and docs/): headings as GitHub anchors, links, and the
commands of its ```sh runbook blocks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
MANUAL = ROOT / "CLAUDE.md"
FENCE = re.compile(r"^```sh runbook\n(.*?)^```$", flags=re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchor of every heading outside code blocks."""
    prose = re.sub(r"^```.*?^```$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", prose, flags=re.MULTILINE)}


def links(markdown: str) -> list[str]:
    """Targets of the Markdown links ``[text](target)`` outside code blocks, web links left out."""
    prose = re.sub(r"^```.*?^```$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", prose) if not t.startswith(("http:", "https:"))]


def runbook_commands(markdown: str) -> list[str]:
    """Every command line of the ```sh runbook blocks, in order."""
    return [
        line.strip()
        for block in FENCE.findall(markdown)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]

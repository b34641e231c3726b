"""Results named after the file the user uploaded, not after its storage name (the sha256 the MCP
server read it as): the DoclingDocument's ``name`` (the file's stem, as Docling names documents) and
``origin.filename`` (the whole name) in the JSON, and the HTML ``<title>`` (Docling writes the
document's name there). Pure: text in, text out."""

from __future__ import annotations

import html
import json
import re
from pathlib import PurePosixPath

TITLE = re.compile(r"<title>.*?</title>", re.DOTALL | re.IGNORECASE)


def named(outputs: dict[str, str], filename: str) -> dict[str, str]:
    """``outputs`` (format -> text) with the JSON and the HTML naming ``filename``."""
    renamed = dict(outputs)
    if "json" in renamed:
        renamed["json"] = named_json(renamed["json"], filename)
    if "html" in renamed:
        renamed["html"] = named_html(renamed["html"], filename)
    return renamed


def named_json(text: str, filename: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return text  # not ours to repair here: the result is stored as the server gave it
    if not isinstance(document, dict):
        return text
    document["name"] = PurePosixPath(filename).stem
    if isinstance(document.get("origin"), dict):
        document["origin"]["filename"] = filename
    return json.dumps(document, ensure_ascii=False)


def named_html(text: str, filename: str) -> str:
    title = f"<title>{html.escape(PurePosixPath(filename).stem)}</title>"
    return TITLE.sub(lambda _: title, text, count=1)

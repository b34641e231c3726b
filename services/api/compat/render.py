"""A job's stored results in docling-serve's shapes: the per-document answer and the zip.

``text`` and ``doctags`` are exported from the stored DoclingDocument JSON with docling-core, the
way docling itself exports them; docling-core is imported on first use (it takes a second).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import PurePosixPath
from typing import Any

# docling-serve's format name -> our stored format, or None when exported from the JSON here
STORED = {"md": "markdown", "json": "json", "html": "html", "text": None, "doctags": None}
FIELD = {
    "md": "md_content",
    "json": "json_content",
    "html": "html_content",
    "text": "text_content",
    "doctags": "doctags_content",
}
SUFFIX = {"md": ".md", "json": ".json", "html": ".html", "text": ".txt", "doctags": ".doctags.txt"}


def exported(document_json: str, fmt: str) -> str:
    """``text`` or ``doctags`` of a DoclingDocument JSON (CPU work: call it in a thread)."""
    from docling_core.types.doc import DoclingDocument

    document = DoclingDocument.model_validate_json(document_json)
    if fmt == "text":
        return document.export_to_text()
    return document.export_to_doctags()


def stored_for(formats: tuple[str, ...]) -> list[str]:
    """The stored formats a job must produce to answer docling-serve's ``formats``."""
    return sorted({STORED[f] or "json" for f in formats})


def needs_json(formats: tuple[str, ...]) -> bool:
    return any(STORED[f] is None or f == "json" for f in formats)


def document_fields(contents: dict[str, str]) -> dict[str, Any]:
    """ExportDocumentResponse's content fields from format -> text (json parsed)."""
    return {FIELD[f]: json.loads(text) if f == "json" else text for f, text in contents.items()}


def zipped(documents: list[tuple[str, dict[str, str]]]) -> bytes:
    """One file per document and format, named after the document (docling-serve's layout)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, contents in documents:
            stem = PurePosixPath(filename).stem
            for fmt, text in contents.items():
                archive.writestr(f"{stem}{SUFFIX[fmt]}", text)
    return buffer.getvalue()

"""HTML from the DoclingDocument JSON, exported the way Docling itself does (docling-core)."""

from __future__ import annotations

import anyio
from docling_core.types.doc import DoclingDocument

from services.converter.domain import BadResult


def _html(document_json: str) -> str:
    try:
        document = DoclingDocument.model_validate_json(document_json)
    except ValueError as exc:
        raise BadResult("the DoclingDocument JSON does not validate") from exc
    return document.export_to_html()


async def html_from_json(document_json: str) -> str:
    return await anyio.to_thread.run_sync(_html, document_json)

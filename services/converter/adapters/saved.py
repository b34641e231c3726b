"""Files the official docling-mcp server saves into its CACHE_DIR (same machine only)."""

from __future__ import annotations

from pathlib import Path

import anyio

from services.converter.domain import BadResult


async def read_saved_json(saved: dict) -> str:
    """The DoclingDocument JSON that ``save_docling_document`` wrote and named in its result."""
    path = saved.get("json_file")
    if not isinstance(path, str):
        raise BadResult("save_docling_document named no json_file")
    try:
        return await anyio.to_thread.run_sync(Path(path).read_text, "utf-8")
    except OSError as exc:
        raise BadResult(
            f"saved JSON is not readable here ({type(exc).__name__}); "
            "the converter must share the MCP server's CACHE_DIR"
        ) from exc

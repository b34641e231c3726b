"""The web page: upload a document, watch it convert, download the results."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import File

PAGE = Path(__file__).with_name("static") / "index.html"


@get("/", operation_id="getWebPage", include_in_schema=False)
async def web_page() -> File:
    return File(PAGE, media_type="text/html; charset=utf-8", content_disposition_type="inline")

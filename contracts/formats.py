"""What documents the system accepts and what it produces."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal, get_args

# extension -> media type of the input
# (every format docling converts with the backends the MCP server's venv installs: Office Open XML
# with its template and macro variants, HTML and XHTML, Markdown, AsciiDoc, CSV, PDF, and images)
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml"
INPUT_TYPES: dict[str, str] = {
    ".docx": f"{_DOCX}.document",
    ".dotx": f"{_DOCX}.template",
    ".docm": "application/vnd.ms-word.document.macroEnabled.12",
    ".dotm": "application/vnd.ms-word.template.macroEnabled.12",
    ".pptx": f"{_PPTX}.presentation",
    ".potx": f"{_PPTX}.template",
    ".ppsx": f"{_PPTX}.slideshow",
    ".pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ".potm": "application/vnd.ms-powerpoint.template.macroEnabled.12",
    ".ppsm": "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    ".xlsx": f"{_XLSX}.sheet",
    ".xltx": f"{_XLSX}.template",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xltm": "application/vnd.ms-excel.template.macroEnabled.12",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".adoc": "text/asciidoc",
    ".asciidoc": "text/asciidoc",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    # images: read by OCR (the project's MCP server makes each a PDF page and reads it with tesseract)
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
}
IMAGE_TYPES = frozenset(e for e, t in INPUT_TYPES.items() if t.startswith("image/"))
# Office Open XML: ZIP archives
ZIP_TYPES = frozenset(e for e, t in INPUT_TYPES.items() if "openxmlformats" in t or "macroEnabled" in t)

# the formats a conversion stores (the events' ``formats``, the checkpoint's partial results)
StoredFormat = Literal["markdown", "html", "json"]
STORED_FORMATS: tuple[StoredFormat, ...] = get_args(StoredFormat)
# the formats a client may download: the stored ones, plus those exported on request from the stored
# DoclingDocument JSON (docling-core)
ResultFormat = Literal["markdown", "html", "json", "text", "doctags"]
RESULT_FORMATS: tuple[ResultFormat, ...] = get_args(ResultFormat)
DERIVED_FORMATS = frozenset(RESULT_FORMATS) - frozenset(STORED_FORMATS)

# result format -> media type of the output
OUTPUT_TYPES: dict[ResultFormat, str] = {
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "doctags": "text/plain; charset=utf-8",
}
# result format -> the suffix of its download's file name
RESULT_SUFFIXES: dict[ResultFormat, str] = {
    "markdown": ".md",
    "html": ".html",
    "json": ".json",
    "text": ".txt",
    "doctags": ".doctags",
}


def extension_of(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def is_supported(filename: str) -> bool:
    return extension_of(filename) in INPUT_TYPES

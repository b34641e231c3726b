"""What documents the system accepts and what it produces."""

from __future__ import annotations

from pathlib import PurePosixPath

# extension -> media type of the input
INPUT_TYPES: dict[str, str] = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
}

# result format -> media type of the output
OUTPUT_TYPES: dict[str, str] = {
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}


def extension_of(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def is_supported(filename: str) -> bool:
    return extension_of(filename) in INPUT_TYPES

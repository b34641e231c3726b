from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class McpServerSettings(BaseSettings):
    """Everything is `MCP_SERVER_<NAME>`, plus the seed's and docling-mcp's own names where they exist."""

    model_config = SettingsConfigDict(env_prefix="MCP_SERVER_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, validation_alias=AliasChoices("MCP_SERVER_PORT", "MCP_PORT"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("MCP_SERVER_LOG_LEVEL", "LOG_LEVEL"))

    # worker processes
    workers: int = Field(default_factory=_default_workers, ge=1)
    worker_threads: int = Field(1, ge=1)  # torch / PDF parser threads inside one worker
    doc_timeout_s: float = Field(120.0, gt=0)  # a conversion running longer: its worker is killed
    worker_start_timeout_s: float = Field(180.0, gt=0)
    worker_max_docs: int = Field(500, ge=1)  # recycle a worker after this many documents
    worker_max_rss_mb: int = Field(2048, ge=64)  # ... or once its resident memory passes this

    # what may be read
    allowed_roots: Annotated[list[Path], NoDecode] = Field(  # colon-separated; defaults to UPLOAD_DIR
        default_factory=list, validation_alias=AliasChoices("MCP_SERVER_ALLOWED_ROOTS", "UPLOAD_DIR")
    )
    max_file_size_mb: float = Field(
        100.0, gt=0, validation_alias=AliasChoices("MCP_SERVER_MAX_FILE_SIZE_MB", "MAX_FILE_SIZE_MB")
    )
    allow_urls: bool = True
    url_timeout_s: float = Field(30.0, gt=0)

    # documents kept for the export tools
    cache_max_documents: int = Field(200, ge=1)
    cache_max_mb: float = Field(512.0, gt=0)
    cache_dir: Path = Field(
        Path(tempfile.gettempdir()) / "docling-jobs-mcp-cache",
        validation_alias=AliasChoices("MCP_SERVER_CACHE_DIR", "CACHE_DIR"),
    )

    # PDFs: the standard pipeline needs layout models; native reads the text layer only
    pdf_pipeline: Literal["auto", "standard", "native"] = "auto"
    pdf_do_ocr: bool = True  # standard pipeline only

    # test-only fault injection (a document whose content starts with a magic line crashes or hangs
    # its worker); never enable in production
    test_faults: bool = False

    @field_validator("allowed_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    @property
    def cache_max_bytes(self) -> int:
        return int(self.cache_max_mb * 1024 * 1024)

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.mcp_server.adapters.caps import Caps


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class McpServerSettings(BaseSettings):
    """Everything is `MCP_SERVER_<NAME>`, plus the seed's and docling-mcp's own names where they exist."""

    model_config = SettingsConfigDict(env_prefix="MCP_SERVER_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, validation_alias=AliasChoices("MCP_SERVER_PORT", "MCP_PORT"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("MCP_SERVER_LOG_LEVEL", "LOG_LEVEL"))

    # who may call: each secret is one client (comma-separated here, or one a line in the file)
    token: SecretStr = SecretStr("")
    token_file: Path | None = None

    # worker processes
    workers: int = Field(default_factory=_default_workers, ge=1)
    worker_threads: int = Field(1, ge=1)  # torch / PDF parser threads inside one worker
    doc_timeout_s: float = Field(120.0, gt=0)  # a conversion running longer: its worker is killed
    worker_start_timeout_s: float = Field(180.0, gt=0)
    worker_max_docs: int = Field(500, ge=1)  # recycle a worker after this many documents
    worker_max_rss_mb: int = Field(2048, ge=64)  # ... or once its resident memory passes this
    # per conversion: past either the worker is killed and replaced, the job fails E209 / E210
    worker_memory_mb: int = Field(3072, ge=128)  # resident memory, sampled every 0.25 s while converting
    doc_cpu_s: int = Field(90, ge=1)  # CPU seconds (RLIMIT_CPU: the kernel stops the worker)

    # input caps docling lacks (adapters/caps.py) and the result's size
    max_archive_mb: float = Field(256.0, gt=0)  # OOXML expanded size
    max_archive_members: int = Field(10_000, ge=1)
    max_compression_ratio: float = Field(200.0, gt=1)  # for any part expanding past 1 MB
    max_paragraphs: int = Field(20_000, ge=1)  # DOCX, PPTX
    max_rows: int = Field(20_000, ge=1)  # CSV, XLSX
    max_cells: int = Field(100_000, ge=1)  # CSV, XLSX
    max_html_depth: int = Field(256, ge=1)
    max_image_megapixels: float = Field(50.0, gt=0)  # width x height x frames of an image input
    max_result_mb: float = Field(64.0, gt=0)  # Markdown + HTML + JSON of one document

    # what may be read
    allowed_roots: Annotated[list[Path], NoDecode] = Field(  # colon-separated; defaults to UPLOAD_DIR
        default_factory=list, validation_alias=AliasChoices("MCP_SERVER_ALLOWED_ROOTS", "UPLOAD_DIR")
    )
    max_file_size_mb: float = Field(
        100.0, gt=0, validation_alias=AliasChoices("MCP_SERVER_MAX_FILE_SIZE_MB", "MAX_FILE_SIZE_MB")
    )
    allow_urls: bool = False  # URL sources: public http(s) addresses only (see adapters/public_http.py)
    url_timeout_s: float = Field(30.0, gt=0)  # connect, and each read
    url_total_timeout_s: float = Field(60.0, gt=0)  # a whole download, redirects included
    url_max_redirects: int = Field(5, ge=0)
    # comma-separated networks URL sources may reach besides public addresses (e.g. an internal file
    # server such as 10.1.2.0/24); empty by default: loopback, private and link-local are refused
    url_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)

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

    @field_validator("url_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def tokens(self) -> list[str]:
        """Every client secret; the file is read at each call (a rotated file needs a restart only)."""
        found = self.token.get_secret_value().split(",")
        if self.token_file is not None:
            found += self.token_file.read_text(encoding="utf-8").splitlines()
        return [token.strip() for token in found if token.strip()]

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    def caps(self) -> Caps:
        return Caps(
            archive_bytes=int(self.max_archive_mb * 2**20),
            archive_members=self.max_archive_members,
            compression_ratio=self.max_compression_ratio,
            paragraphs=self.max_paragraphs,
            rows=self.max_rows,
            cells=self.max_cells,
            html_depth=self.max_html_depth,
            image_pixels=int(self.max_image_megapixels * 1_000_000),
        )

    @property
    def cache_max_bytes(self) -> int:
        return int(self.cache_max_mb * 1024 * 1024)

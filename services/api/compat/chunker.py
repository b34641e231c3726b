"""A stored DoclingDocument JSON cut into chunks with docling-core's HierarchicalChunker, item for item
as docling-serve does it (docling-jobkit 3.9.1, ``convert/chunking.py``). CPU work: call it in a thread.

Imported on first use (docling-core's chunker package takes a second to import). No tokenizer and no
model is loaded here: the hierarchical chunker cuts by the document's structure alone.
"""

from __future__ import annotations

from typing import Any

from docling_core.transforms.chunker.hierarchical_chunker import (
    ChunkingDocSerializer,
    ChunkingSerializerProvider,
    DocChunk,
    HierarchicalChunker,
)
from docling_core.transforms.serializer.markdown import MarkdownTableSerializer
from docling_core.types.doc import DoclingDocument

from services.api.compat.models import ChunkedDocumentResultItem, HierarchicalChunkerOptions


class _Serializers(ChunkingSerializerProvider):
    """docling-serve's serializer choice: Markdown tables and an image placeholder when asked."""

    def __init__(self, options: HierarchicalChunkerOptions) -> None:
        self.options = options

    def get_serializer(self, doc: DoclingDocument) -> ChunkingDocSerializer:
        serializers: dict[str, Any] = {}
        if self.options.use_markdown_tables:
            serializers["table_serializer"] = MarkdownTableSerializer()
        params = ChunkingDocSerializer.model_fields["params"].default
        if self.options.use_markdown_images:
            params = params.model_copy(update={"image_placeholder": self.options.image_placeholder})
        return ChunkingDocSerializer(doc=doc, params=params, **serializers)


def chunked(
    document_json: str, filename: str, options: HierarchicalChunkerOptions
) -> list[ChunkedDocumentResultItem]:
    """The document's chunks, numbered from 0, with their headings, captions, items and pages."""
    document = DoclingDocument.model_validate_json(document_json)
    chunker = HierarchicalChunker(serializer_provider=_Serializers(options))
    return [
        _item(chunker, DocChunk.model_validate(c), filename, i, options)
        for i, c in enumerate(chunker.chunk(document))
    ]


def _item(
    chunker: HierarchicalChunker,
    chunk: DocChunk,
    filename: str,
    index: int,
    options: HierarchicalChunkerOptions,
) -> ChunkedDocumentResultItem:
    items = chunk.meta.doc_items
    metadata: dict[str, Any] = {}
    if chunk.meta.origin:
        metadata["origin"] = chunk.meta.origin.model_dump(mode="json")
    metadata["has_image"] = any(item.self_ref.startswith("#/pictures/") for item in items)
    return ChunkedDocumentResultItem(
        filename=filename,
        chunk_index=index,
        text=chunker.contextualize(chunk),
        raw_text=chunk.text if options.include_raw_text else None,
        num_tokens=None,  # the hierarchical chunker counts no tokens
        headings=chunk.meta.headings,
        captions=chunk.meta.captions,
        doc_items=[item.self_ref for item in items],
        page_numbers=sorted({prov.page_no for item in items for prov in item.prov}),
        metadata=metadata,
    )

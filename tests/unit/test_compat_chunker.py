"""The hybrid chunker of the docling-serve chunk routes, on a real DoclingDocument and the bundled
tokenizer: chunks fit max_tokens, count what they hold, and merge peers only when asked."""

from __future__ import annotations

from docling_core.types.doc import DocItemLabel, DoclingDocument

from services.api.compat import chunker
from services.api.compat.models import HierarchicalChunkerOptions, HybridChunkerOptions

WORDS = " ".join(f"word{n} grows in region {n % 7}." for n in range(120))


def document() -> str:
    doc = DoclingDocument(name="guide")
    doc.add_heading("Field guide", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text="Short one.")
    doc.add_text(label=DocItemLabel.TEXT, text="Short two.")
    doc.add_heading("Long part", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text=WORDS)
    return doc.model_dump_json()


def test_the_bundled_tokenizer_counts_word_pieces_without_special_tokens() -> None:
    counter = chunker.BundledTokenizer()
    assert counter.count_tokens("") == 0
    assert counter.count_tokens("hello world") == 2
    assert counter.count_tokens("hello " * 300) == 300  # the file's 128-token truncation is off
    assert counter.get_max_tokens() == 256


def test_hybrid_chunks_fit_max_tokens_and_count_their_text() -> None:
    chunks = chunker.chunked(document(), "guide.docx", HybridChunkerOptions(max_tokens=40))
    long_part = [c for c in chunks if c.headings == ["Long part"]]
    assert len(long_part) > 3  # the long paragraph is split to fit
    counter = chunker.BundledTokenizer()
    for chunk in chunks:
        assert chunk.num_tokens == counter.count_tokens(chunk.text) and 0 < chunk.num_tokens <= 40
    assert " ".join(c.text.removeprefix("Long part\n") for c in long_part).split() == WORDS.split()


def test_peers_merge_only_when_asked() -> None:
    merged = chunker.chunked(document(), "g.docx", HybridChunkerOptions(max_tokens=40))
    apart = chunker.chunked(document(), "g.docx", HybridChunkerOptions(max_tokens=40, merge_peers=False))
    first = [c.text for c in merged if c.headings == ["Field guide"]]
    assert first == ["Field guide\nShort one.\nShort two."]
    assert [c.text for c in apart if c.headings == ["Field guide"]] == [
        "Field guide\nShort one.",
        "Field guide\nShort two.",
    ]


def test_the_hierarchical_chunker_counts_no_tokens() -> None:
    chunks = chunker.chunked(document(), "g.docx", HierarchicalChunkerOptions())
    assert chunks and all(c.num_tokens is None for c in chunks)

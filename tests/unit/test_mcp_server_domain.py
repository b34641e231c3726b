"""The MCP server's pure rules: cache bounds, allowed roots, PDF pipeline choice, keys, progress."""

from __future__ import annotations

from pathlib import PurePosixPath as P

import pytest

from services.mcp_server.domain import (
    ConvertedDocument,
    DocumentCache,
    DocumentFailed,
    ProgressTrack,
    choose_pdf_pipeline,
    document_key,
    is_within_roots,
    progress_point,
)
from services.mcp_server.settings import McpServerSettings


def doc(size: int = 10) -> ConvertedDocument:
    return ConvertedDocument(markdown="m" * size, html="", json="", pipeline="simple", pages=0)


def test_cache_evicts_least_recently_used_beyond_the_count() -> None:
    cache = DocumentCache(max_documents=2, max_bytes=10_000)
    cache.put("a", doc())
    cache.put("b", doc())
    cache.get("a")  # a is now the most recent
    assert cache.put("c", doc()) == ["b"]
    assert cache.keys() == ["a", "c"]


def test_cache_evicts_until_the_bytes_fit_but_keeps_the_newest() -> None:
    cache = DocumentCache(max_documents=10, max_bytes=25)
    cache.put("a", doc(10))
    cache.put("b", doc(10))
    assert cache.put("c", doc(10)) == ["a"]
    assert cache.size_bytes == 20
    assert cache.put("huge", doc(100)) == ["b", "c"]  # alone over the limit, still kept
    assert cache.keys() == ["huge"] and cache.size_bytes == 100


def test_cache_refresh_and_drop_keep_the_byte_count() -> None:
    cache = DocumentCache(max_documents=10, max_bytes=1000)
    cache.put("a", doc(10))
    cache.put("a", doc(30))
    assert (len(cache), cache.size_bytes) == (1, 30)
    assert cache.drop("a") and not cache.drop("a")
    assert cache.size_bytes == 0 and cache.get("a") is None


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/srv/uploads/ab/file.pdf", True),
        ("/srv/uploads", True),
        ("/srv/uploads-evil/file.pdf", False),  # a sibling sharing the prefix
        ("/srv/other/file.pdf", False),
        ("/srv/uploads/../secret", False),  # unresolved `..` never passes
        ("relative/file.pdf", False),
        ("/data/in/x.docx", True),
    ],
)
def test_paths_must_lie_under_a_root(path: str, allowed: bool) -> None:
    assert is_within_roots(P(path), [P("/srv/uploads"), P("/data/in")]) is allowed


def test_no_roots_allow_nothing() -> None:
    assert not is_within_roots(P("/srv/uploads/a.pdf"), [])


def test_pdf_pipeline_choice() -> None:
    assert choose_pdf_pipeline("auto", None) == "standard"
    assert choose_pdf_pipeline("auto", "No module named 'transformers'") == "native"
    assert choose_pdf_pipeline("native", None) == "native"
    assert choose_pdf_pipeline("standard", None) == "standard"
    with pytest.raises(DocumentFailed):
        choose_pdf_pipeline("standard", "weights missing")


def test_document_key_follows_content_format_and_setup() -> None:
    key = document_key("abc", ".PDF", {"mode": "x"})
    assert len(key) == 32 and key == document_key("abc", ".pdf", {"mode": "x"})
    assert key != document_key("abd", ".pdf", {"mode": "x"})
    assert key != document_key("abc", ".md", {"mode": "x"})
    assert key != document_key("abc", ".pdf", {"mode": "y"})


def test_progress_fills_the_page_band_and_never_goes_back() -> None:
    assert progress_point("page", 1, 4) == (32.5, "page 1 of 4")
    track = ProgressTrack()
    seen = [
        track.advance(*step)
        for step in [
            ("received",),
            ("queued",),
            ("build",),
            ("page", 1, 2),
            ("page", 2, 2),
            ("assemble",),
            ("export",),
            ("done",),
        ]
    ]
    percents = [point[0] for point in seen if point is not None]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert seen[5] is None  # assemble (85) adds nothing after the last page (85)


def test_settings_read_colon_separated_roots_and_seed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_SERVER_ALLOWED_ROOTS", "/srv/uploads:/data/in")
    monkeypatch.setenv("MAX_FILE_SIZE_MB", "2")
    monkeypatch.setenv("CACHE_DIR", "/tmp/cache")
    settings = McpServerSettings()
    assert [str(root) for root in settings.allowed_roots] == ["/srv/uploads", "/data/in"]
    assert settings.max_file_bytes == 2 * 1024 * 1024 and str(settings.cache_dir) == "/tmp/cache"


def test_settings_fall_back_to_the_upload_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_SERVER_ALLOWED_ROOTS", raising=False)
    monkeypatch.setenv("UPLOAD_DIR", "/srv/uploads")
    assert [str(root) for root in McpServerSettings().allowed_roots] == ["/srv/uploads"]

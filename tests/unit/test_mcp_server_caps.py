"""The MCP server's input caps: each generated hostile document is refused with its code, quickly;
ordinary documents pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.mcp_server.adapters import caps
from services.mcp_server.domain import DocumentOverLimit
from services.mcp_server.settings import McpServerSettings
from tests import documents
from tests.hostile import HOSTILE

DEFAULTS = McpServerSettings().caps()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_document_is_refused_with_its_code(name: str, tmp_path: Path) -> None:
    maker, filename, code = HOSTILE[name]
    path = maker(tmp_path / filename)
    with pytest.raises(DocumentOverLimit) as refused:
        caps.check(path, DEFAULTS)
    assert refused.value.code == code and str(refused.value).startswith(f"[{code}] ")


@pytest.mark.parametrize("kind", sorted(documents.MAKERS))
def test_ordinary_documents_pass(kind: str, tmp_path: Path) -> None:
    caps.check(documents.MAKERS[kind](tmp_path / f"plain.{kind}"), DEFAULTS)


def test_implied_end_tags_do_not_count_as_nesting(tmp_path: Path) -> None:
    page = tmp_path / "list.html"
    page.write_text("<ul>" + "<li>item <p>text" * 2000 + "</ul>" + "<br><img src=x>" * 2000)
    caps.check(page, DEFAULTS)


def test_each_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = tmp_path / "small.csv"
    sheet.write_text("a,b\n" * 50)
    caps.check(sheet, DEFAULTS)
    monkeypatch.setenv("MCP_SERVER_MAX_ROWS", "10")
    with pytest.raises(DocumentOverLimit, match="more than 10 rows"):
        caps.check(sheet, McpServerSettings().caps())

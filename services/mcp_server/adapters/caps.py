"""Input limits docling does not have, checked on the server before a worker sees the document.

- OOXML (DOCX, PPTX, XLSX and their macro variants): the archive's expanded size, its member count
  and each large member's compression ratio (zip bombs; docling guards DOCX and XLSX, not PPTX); no
  XML part may declare a DOCTYPE (entity expansion); paragraphs (DOCX, PPTX) and rows and cells
  (XLSX) are counted in the streamed XML.
- CSV: rows and cells.
- HTML: element nesting depth.
- Images: pixels (width x height x frames, read from the header: a small file can declare a huge
  image).
Each overrun raises ``DocumentTooLarge`` (E209) or ``DocumentTooComplex`` (E210) with what to change.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from services.mcp_server.domain import IMAGES, DocumentTooComplex, DocumentTooLarge

# every Office Open XML format docling reads: documents, templates, macro-enabled files, slide shows
OOXML = frozenset(
    {".docx", ".docm", ".dotx", ".dotm", ".pptx", ".pptm", ".potx", ".potm", ".ppsx", ".ppsm"}
    | {".xlsx", ".xlsm", ".xltx", ".xltm"}
)
HTML = frozenset({".html", ".htm", ".xhtml"})
_CHUNK = 1 << 20
UNREADABLE = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError)
_BIG_MEMBER = 1 << 20  # compression ratios are checked for members expanding past this
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_PARAGRAPH = re.compile(rb"<[aw]:p[ >]")
_ROW, _CELL = re.compile(rb"<(?:\w+:)?row[ >]"), re.compile(rb"<(?:\w+:)?c[ >/]")
VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # no end tag
)
IMPLIED_END = frozenset("p li dt dd tr td th option optgroup thead tbody tfoot rb rt rp".split())


@dataclass(frozen=True)
class Caps:
    archive_bytes: int
    archive_members: int
    compression_ratio: float
    paragraphs: int
    rows: int
    cells: int
    html_depth: int
    image_pixels: int


def check(path: Path, caps: Caps) -> None:
    """Raise when the document at ``path`` overruns a cap; formats without caps pass."""
    suffix = path.suffix.lower()
    if suffix in OOXML:
        _check_ooxml(path, caps)
    elif suffix == ".csv":
        _check_csv(path, caps)
    elif suffix in HTML:
        _check_html(path, caps)
    elif suffix in IMAGES:
        _check_image(path, caps)


def _check_image(path: Path, caps: Caps) -> None:
    try:
        with Image.open(path) as image:  # the header only: no pixel is decoded here
            pixels = image.width * image.height * getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        pixels = caps.image_pixels + 1  # Pillow's own guard: more than twice its pixel limit
    except (OSError, ValueError, SyntaxError):
        return  # unreadable: the conversion reports it
    if pixels > caps.image_pixels:
        raise DocumentTooLarge(
            f"the image has {pixels:,} pixels (at most {caps.image_pixels:,}): scale it down"
        )


def _check_ooxml(path: Path, caps: Caps) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not an archive: docling reports it as unreadable
    with archive:
        members = archive.infolist()
        _check_archive(members, caps)
        counts = {"paragraphs": 0, "rows": 0, "cells": 0}
        try:
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    _count_xml(archive, member, counts)
                    _check_counts(counts, caps)
        except UNREADABLE:
            return  # a damaged or encrypted part: docling reports the document as unreadable


def _check_archive(members: list[zipfile.ZipInfo], caps: Caps) -> None:
    expanded = sum(m.file_size for m in members)
    if len(members) > caps.archive_members:
        raise DocumentTooLarge(f"the archive holds {len(members)} parts (at most {caps.archive_members})")
    if expanded > caps.archive_bytes:
        raise DocumentTooLarge(
            f"the archive expands to {expanded / 2**20:.0f} MB (at most {caps.archive_bytes / 2**20:.0f} MB)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _BIG_MEMBER and ratio > caps.compression_ratio:
            raise DocumentTooLarge(
                f"a part of the archive expands {ratio:.0f} times (at most {caps.compression_ratio:g})"
            )


def _count_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, counts: dict[str, int]) -> None:
    name = member.filename
    for index, chunk in enumerate(_chunks(archive, member)):
        if index == 0 and _DOCTYPE.search(chunk):
            raise DocumentTooLarge("an XML part declares a DOCTYPE (entity expansion is not allowed)")
        if name.startswith(("word/document", "ppt/slides/slide")):
            counts["paragraphs"] += len(_PARAGRAPH.findall(chunk))
        elif name.startswith("xl/worksheets/"):
            counts["rows"] += len(_ROW.findall(chunk))
            counts["cells"] += len(_CELL.findall(chunk))


def _chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes in chunks overlapping by a few bytes, so no tag is split unseen."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            yield tail + chunk
            tail = chunk[-16:]


def _check_counts(counts: dict[str, int], caps: Caps) -> None:
    for name, limit in (("paragraphs", caps.paragraphs), ("rows", caps.rows), ("cells", caps.cells)):
        if counts[name] > limit:
            raise DocumentTooLarge(f"the document has more than {limit} {name}")


def _check_csv(path: Path, caps: Caps) -> None:
    rows = cells = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            lines = chunk.count(b"\n")
            rows += lines
            cells += lines + max(chunk.count(b","), chunk.count(b";"), chunk.count(b"\t"))
            _check_counts({"paragraphs": 0, "rows": rows, "cells": cells}, caps)


class _DepthProbe(HTMLParser):
    """Tracks the open elements; tags whose end tag may be left out close their open twin."""

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID:
            return
        while tag in IMPLIED_END and self.open and self.open[-1] in (tag, "p"):
            self.open.pop()  # a new <li> ends the open <p> and <li>, a new <td> the open <td>, ...
        self.open.append(tag)
        if len(self.open) > self.limit:
            raise DocumentTooComplex(f"HTML elements are nested more than {self.limit} deep")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]


def _check_html(path: Path, caps: Caps) -> None:
    probe = _DepthProbe(caps.html_depth)
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        while chunk := handle.read(_CHUNK):
            probe.feed(chunk)
    probe.close()

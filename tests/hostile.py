"""Generated hostile documents (small on disk, costly to convert), for tests and bench/hostile.py.

Each maker writes one file and returns its path; ``HOSTILE`` names them with the code their job
must end with.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
WORD = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _ooxml(path: Path, parts: dict[str, Callable[[zipfile.ZipFile, str], None] | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        for name, part in parts.items():
            if isinstance(part, str):
                archive.writestr(name, part)
            else:
                part(archive, name)
    return path


def _streamed(chunk: bytes, count: int, head: bytes = b"", tail: bytes = b""):
    def write(archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as out:
            out.write(head)
            for _ in range(count):
                out.write(chunk)
            out.write(tail)

    return write


def make_csv_bomb(path: Path, rows: int = 60_000) -> Path:
    """~0.5 MB: 60,000 rows of 8 cells (a 1 MB CSV once took a worker up by 3 GB)."""
    path.write_text("a,b,c,d,e,f,g,h\n" + "1,2,3,4,5,6,7,8\n" * rows)
    return path


def make_pptx_huge_part(path: Path) -> Path:
    """~0.1 MB: one slide part that expands to 64 MB (docling's archive limits do not cover PPTX)."""
    slide = _streamed(b"<a:p><a:r><a:t>x</a:t></a:r></a:p>" * 1024, 1900, b"<p:sld>", b"</p:sld>")
    return _ooxml(path, {"ppt/slides/slide1.xml": slide})


def make_zip_bomb_docx(path: Path) -> Path:
    """~0.1 MB: word/document.xml expands to 64 MB of nothing (a ratio of about 1000)."""
    body = _streamed(b" " * 2**20, 64, f"<w:document {WORD}><w:body>".encode(), b"</w:body></w:document>")
    return _ooxml(path, {"word/document.xml": body})


def make_nested_html(path: Path, depth: int = 20_000) -> Path:
    """~0.2 MB of <div>s nested 20,000 deep (88 KB of them once cost 25 s of CPU)."""
    path.write_text("<html><body>" + "<div>" * depth + "deep" + "</div>" * depth + "</body></html>")
    return path


def make_docx_tiny_paragraphs(path: Path, paragraphs: int = 100_000) -> Path:
    """100,000 one-letter paragraphs (50 KB of them once reached the 120 s worker timeout)."""
    body = _streamed(
        b"<w:p><w:r><w:t>x</w:t></w:r></w:p>",
        paragraphs,
        f"<w:document {WORD}><w:body>".encode(),
        b"</w:body></w:document>",
    )
    return _ooxml(path, {"word/document.xml": body})


def make_entity_docx(path: Path) -> Path:
    """A billion-laughs DOCTYPE in word/document.xml (XML entity expansion)."""
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9)
    )
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f"<w:document {WORD}><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _ooxml(path, {"word/document.xml": document})


def make_pixel_bomb_png(path: Path, side: int = 20_000) -> Path:
    """A few bytes of PNG whose header declares 20,000 x 20,000 pixels (400 megapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (side + 1) * 16)  # the first rows only: decoding would need 400 MB
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    return path


# name -> (maker, file name, the code its job ends with)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "csv bomb": (make_csv_bomb, "bomb.csv", "E209"),
    "pptx huge part": (make_pptx_huge_part, "huge.pptx", "E209"),
    "potx huge part": (make_pptx_huge_part, "huge.potx", "E209"),  # a template: every OOXML suffix
    "png of 400 megapixels": (make_pixel_bomb_png, "pixels.png", "E209"),
    "zip-bomb docx": (make_zip_bomb_docx, "bomb.docx", "E209"),
    "nested html": (make_nested_html, "nested.html", "E210"),
    "docx 100,000 paragraphs": (make_docx_tiny_paragraphs, "paragraphs.docx", "E209"),
    "xml entity expansion": (make_entity_docx, "entities.docx", "E209"),
}

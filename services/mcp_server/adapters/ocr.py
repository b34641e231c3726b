"""OCR for PDFs without a text layer and for images, with Debian's ``tesseract-ocr`` and no model download.

docling's own OCR stages (including its Tesseract CLI engine) run inside its standard PDF pipeline,
which needs layout-model weights this machine cannot download; the native pipeline runs no OCR. So
a page with no text is rendered here (pypdfium2, which docling already uses) and read by the same
``tesseract`` program docling's ``TesseractCliOcrOptions`` calls; each paragraph becomes a text item
of the document. An image is made a PDF of its pages first (``as_pdf``), so it takes the same road.
Runs in the conversion worker; every call is bounded in time.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2
from docling_core.types.doc import DocItemLabel, DoclingDocument
from PIL import Image, ImageSequence

from services.mcp_server.domain import IMAGES

RENDER_SCALE = 4.0  # 288 dpi: tesseract reads small print far better than at 72 dpi
PAGE_TIMEOUT_S = 60.0
MAX_PAGES = 200


@contextmanager
def as_pdf(path: str) -> Iterator[str]:
    """An image as a PDF of one page per frame (a scan, to the PDF pipeline and OCR), kept while the
    block runs; any other document as it is. Pages are sized so that rendering them at
    ``RENDER_SCALE`` gives back the image's own pixels, no more."""
    source = Path(path)
    if source.suffix.lower() not in IMAGES:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="image-") as folder, Image.open(source) as image:
        pages = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
        target = Path(folder) / f"{source.stem}.pdf"
        pages[0].save(target, "PDF", resolution=72.0 * RENDER_SCALE, save_all=True, append_images=pages[1:])
        del pages
        yield str(target)


def engine() -> str | None:
    """The tesseract program on PATH, or None (then scanned PDFs fail with a clear error)."""
    return shutil.which("tesseract")


def page_texts(path: str, binary: str, language: str = "eng") -> list[str]:
    """The text tesseract reads on each page (at most ``MAX_PAGES``)."""
    document = pypdfium2.PdfDocument(path)
    texts = []
    try:
        with tempfile.TemporaryDirectory(prefix="ocr-") as folder:
            for number in range(min(len(document), MAX_PAGES)):
                image = Path(folder) / f"page-{number}.png"
                document[number].render(scale=RENDER_SCALE).to_pil().convert("L").save(image)
                texts.append(_read(binary, image, language))
    finally:
        document.close()
    return texts


def _read(binary: str, image: Path, language: str) -> str:
    done = subprocess.run(
        [binary, str(image), "stdout", "-l", language, "--psm", "6"],
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_S,
        check=False,
    )
    return done.stdout if done.returncode == 0 else ""


def add_paragraphs(document: DoclingDocument, texts: list[str]) -> int:
    """Append each page's paragraphs as text items; how many were added."""
    added = 0
    for text in texts:
        for paragraph in text.split("\n\n"):
            line = " ".join(paragraph.split())
            if line:
                document.add_text(label=DocItemLabel.TEXT, text=line)
                added += 1
    return added

"""OCR for PDFs without a text layer, with Debian's ``tesseract-ocr`` and no model download.

docling's own OCR stages (including its Tesseract CLI engine) run inside its standard PDF pipeline,
which needs layout-model weights this machine cannot download; the native pipeline runs no OCR. So
a page with no text is rendered here (pypdfium2, which docling already uses) and read by the same
``tesseract`` program docling's ``TesseractCliOcrOptions`` calls; each paragraph becomes a text item
of the document. Runs in the conversion worker; every call is bounded in time.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pypdfium2
from docling_core.types.doc import DocItemLabel, DoclingDocument

RENDER_SCALE = 4.0  # 288 dpi: tesseract reads small print far better than at 72 dpi
PAGE_TIMEOUT_S = 60.0
MAX_PAGES = 200


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

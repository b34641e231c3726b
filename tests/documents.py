"""Documents made on the spot for tests and benchmarks: each call makes unique content."""

from __future__ import annotations

import uuid
from pathlib import Path

import docx
import openpyxl
import pptx


def _token() -> str:
    return uuid.uuid4().hex[:8]


def _table(document: docx.document.Document, *rows: list[str]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading(f"Quarterly report {_token()}", level=1)
    document.add_paragraph("Revenue grew in every region this quarter.")
    document.add_paragraph("First point", style="List Bullet")
    document.add_paragraph("Second point", style="List Bullet")
    _table(document, ["Region", "Growth"], ["North", "12%"])
    document.save(path)
    return path


def make_sectioned_docx(path: Path) -> Path:
    """A DOCX of two sections under one title, each with its own text (a table in the second)."""
    document = docx.Document()
    document.add_heading(f"Field guide {_token()}", level=1)
    document.add_paragraph("This guide covers two regions.")
    document.add_heading("Northern region", level=2)
    document.add_paragraph("Pine forests cover the northern hills.")
    document.add_heading("Southern region", level=2)
    document.add_paragraph("Olive groves line the southern coast.")
    _table(document, ["Tree", "Count"], ["Olive", "40"])
    document.save(path)
    return path


def make_long_docx(path: Path, paragraphs: int = 4000) -> Path:
    """A DOCX that takes docling seconds, not milliseconds: room to act while it converts."""
    document = docx.Document()
    document.add_heading(f"Long report {_token()}", level=1)
    for number in range(paragraphs):
        document.add_paragraph(f"Paragraph {number}: revenue grew in every region this quarter.")
    document.save(path)
    return path


def make_pptx(path: Path) -> Path:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = f"Roadmap {_token()}"
    slide.placeholders[1].text = "Ship the walking skeleton"
    deck.save(path)
    return path


def make_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    for row in (["Item", "Qty", "Ref"], ["Apples", 3, _token()], ["Pears", 5, _token()]):
        sheet.append(row)
    book.save(path)
    return path


def make_html(path: Path) -> Path:
    path.write_text(
        f"<html><head><title>Note</title></head><body><h1>Meeting {_token()}</h1>"
        "<p>We agreed on <b>three</b> things.</p><ul><li>one</li><li>two</li></ul>"
        "</body></html>"
    )
    return path


def make_markdown(path: Path) -> Path:
    path.write_text(f"# Release notes {_token()}\n\nThis release adds:\n\n- conversion\n- progress\n")
    return path


def make_pdf(path: Path) -> Path:
    """A minimal valid one-page PDF with a text layer."""
    body = b"BT /F1 24 Tf 72 720 Td (Hello PDF) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def make_corrupt_docx(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04" + b"this is not a zip archive" * 40)
    return path


MAKERS = {"docx": make_docx, "pptx": make_pptx, "xlsx": make_xlsx, "html": make_html, "md": make_markdown}


def make_csv(path: Path) -> Path:
    path.write_text(f"item,qty,ref\napples,3,{_token()}\npears,5,{_token()}\n")
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A one-page PDF holding only a picture of text: no text layer (what a scanner makes)."""
    from PIL import Image, ImageDraw

    page = Image.new("L", (612, 792), color=255)
    ImageDraw.Draw(page).text((72, 72), f"Scanned page {_token()}", fill=0)
    page.save(path, "PDF", resolution=72.0)
    return path


def make_scanned_image(path: Path, pages: int = 1) -> Path:
    """A photo of text in the format ``path``'s suffix names (PNG, JPEG, TIFF, BMP, WebP); a TIFF may
    hold several pages. Each page reads "Scanned image <n> <token>"."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=48)
    token = _token()
    frames = []
    for number in range(1, pages + 1):
        frame = Image.new("RGB", (1400, 400), color="white")
        ImageDraw.Draw(frame).text((60, 150), f"Scanned image {number} {token}", fill="black", font=font)
        frames.append(frame)
    frames[0].save(path, save_all=pages > 1, append_images=frames[1:])
    return path


def make_corrupt_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n" + b"\x00this is not a PDF body\xff" * 40 + b"\n%%EOF\n")
    return path

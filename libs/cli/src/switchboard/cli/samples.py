"""Sample documents made on the fly, for the demo and the tests: a PDF with a text layer, scanned
(image-only) pages as PDF, TIFF and PNG, and a multi-page Group 4 fax TIFF."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text is in its text layer (Helvetica), built object by object."""
    content = (
        "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({_escape(line)}) '" for line in lines) + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def scanned_page(lines: list[str], *, mode: str = "L", size: int = 36) -> Image.Image:
    """A page as a scanner would see it: black text on white, no text layer."""
    font = ImageFont.load_default(size=size)
    step = round(size * 1.8)
    page = Image.new("L", (1700, 120 + step * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    for row, line in enumerate(lines):
        draw.text((80, 60 + step * row), line, fill=0, font=font)
    return page.convert(mode)


def scanned_pdf(pages: list[list[str]]) -> bytes:
    images = [scanned_page(lines, mode="RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=200)
    return out.getvalue()


def scanned_tiff(pages: list[list[str]], *, fax: bool = False, standard: bool = False) -> bytes:
    """Multi-page TIFF; `fax` makes it 1-bit Group 4, as fax servers store them; `standard` is a
    standard-resolution fax (204x98 dpi: half as many lines as columns per inch, so each pixel is
    twice as tall as it is wide)."""
    dpi = (200, 200)
    if standard:  # the text a fax machine's standard mode sends: small, every other line
        images = [scanned_page(lines, size=18) for lines in pages]
        images = [
            page.resize((page.width, page.height // 2), Image.Resampling.BOX) for page in images
        ]
        dpi = (204, 98)
    else:
        images = [scanned_page(lines, mode="L") for lines in pages]
    images = [page.convert("1") if fax else page for page in images]
    out = io.BytesIO()
    options = {"compression": "group4"} if fax else {}
    images[0].save(out, format="TIFF", save_all=True, append_images=images[1:], dpi=dpi, **options)
    return out.getvalue()


def scanned_png(lines: list[str]) -> bytes:
    out = io.BytesIO()
    scanned_page(lines).save(out, format="PNG")
    return out.getvalue()

"""Letters and faxes: a PDF, TIFF or PNG → its text, page count and how it was read.

A PDF page with a text layer is read from it (pypdf); a page without one (a scan) and every TIFF or
PNG page is read by OCR. The mean OCR confidence is reported; under the threshold the contact is
flagged for manual review. Pages are counted, and their pixels measured, from the container before
any page is decoded; decoding runs off the event loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.ocr import Tesseract
from switchboard.intake.offload import Offload

Kind = Literal["pdf", "tiff", "png"]
MIN_TEXT_LAYER_CHARS = 20


@dataclass
class DocumentText:
    kind: Kind
    pages: int
    text: str
    ocr_pages: int = 0
    ocr_confidence: float | None = None
    warnings: list[str] = field(default_factory=list)


def kind_of(data: bytes) -> Kind:
    if not data:
        raise InvalidInput("the document is empty")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    raise InvalidInput("the document is not a PDF, TIFF or PNG", status=415)


@dataclass
class Decoded:
    """A document as its pages: a page's text layer (str) or its scan as PNG (bytes) for OCR."""

    kind: Kind
    pages: list[str | bytes]
    warnings: list[str] = field(default_factory=list)


async def read_document(
    data: bytes,
    *,
    max_pages: int,
    ocr: Tesseract,
    offload: Offload,
    max_pixels: int = 40_000_000,
) -> DocumentText:
    """Decoded off the event loop (pages counted and sized before any is decoded), then each scan
    read by OCR."""
    decoded = await offload.run(decode, data, max_pages=max_pages, max_pixels=max_pixels)
    document = DocumentText(decoded.kind, len(decoded.pages), "", warnings=decoded.warnings)
    texts: list[str] = []
    confidences: list[float] = []
    for page in decoded.pages:
        if isinstance(page, str):
            texts.append(page)
            continue
        document.ocr_pages += 1
        result = await ocr.read(page)
        texts.append(result.text)
        if result.confidence is not None:
            confidences.append(result.confidence)
    document.text = "\n\n".join(t for t in texts if t).strip()
    document.ocr_confidence = _mean(confidences)
    return document


def decode(data: bytes, *, max_pages: int, max_pixels: int) -> Decoded:
    kind = kind_of(data)
    if kind == "pdf":
        return _decode_pdf(data, max_pages=max_pages, max_pixels=max_pixels)
    return _decode_images(kind, data, max_pages=max_pages, max_pixels=max_pixels)


def _decode_pdf(data: bytes, *, max_pages: int, max_pixels: int) -> Decoded:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput("the PDF is encrypted")
        count = len(reader.pages)
        _check_pages(count, max_pages)
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise InvalidInput(f"not a readable PDF: {type(error).__name__}") from None
    decoded = Decoded("pdf", [])
    for number, page in enumerate(pages, start=1):
        try:
            layer = (page.extract_text() or "").strip()
        except Exception as error:  # pypdf raises many kinds on damaged content streams
            layer = ""
            decoded.warnings.append(
                f"page {number}: text layer unreadable ({type(error).__name__})"
            )
        if len("".join(layer.split())) >= MIN_TEXT_LAYER_CHARS:
            decoded.pages.append(layer)
            continue
        _check_pdf_images(page, number, max_pixels)
        scans = [_png(image) for image in _page_images(page, number, decoded.warnings)]
        decoded.pages.extend(scans or [layer])
    return decoded


def _check_pdf_images(page: Any, number: int, max_pixels: int) -> None:
    """Each image's declared size, read before any image is decoded."""
    try:
        objects = page["/Resources"]["/XObject"]
        sizes = [
            int(objects[name].get_object().get("/Width", 0))
            * int(objects[name].get_object().get("/Height", 0))
            for name in objects
        ]
    except Exception:  # no images, or a dictionary too damaged to tell: decoding will say
        return
    if any(size > max_pixels for size in sizes):
        raise InvalidInput(
            f"page {number} has an image over the {max_pixels:,}-pixel limit", status=413
        )


def _page_images(page: Any, number: int, warnings: list[str]) -> list[Image.Image]:
    try:
        return [image.image for image in page.images if image.image is not None]
    except Exception as error:
        warnings.append(f"page {number}: images unreadable ({type(error).__name__})")
        return []


def _decode_images(kind: Kind, data: bytes, *, max_pages: int, max_pixels: int) -> Decoded:
    decoded = Decoded(kind, [])
    try:
        image = Image.open(io.BytesIO(data))
        _check_pages(getattr(image, "n_frames", 1), max_pages)  # read from the IFDs, not decoded
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            width, height = frame.size
            if width * height > max_pixels:
                raise InvalidInput(
                    f"page {number} of {width}x{height} pixels is over the {max_pixels:,}-pixel"
                    " limit",
                    status=413,
                )
            decoded.pages.append(_png(_square_pixels(frame.copy(), decoded.warnings)))
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as error:
        raise InvalidInput(f"not a readable {kind.upper()} image: {type(error).__name__}") from None
    return decoded


def _square_pixels(image: Image.Image, warnings: list[str]) -> Image.Image:
    """A page scanned at different horizontal and vertical resolutions (a standard-resolution fax
    is 204x98 dpi, its pixels twice as tall as wide) stretched to square pixels, as OCR expects
    letters to be shaped. Each pixel is repeated (nearest neighbour), which keeps a 1-bit fax's
    strokes sharp: measured on faxed text, it reads better than smoothing."""
    dpi = image.info.get("dpi")
    try:
        x, y = (float(dpi[0]), float(dpi[1])) if dpi else (0.0, 0.0)
    except (TypeError, ValueError, IndexError):
        return image
    if x <= 0 or y <= 0 or abs(x / y - 1) < 0.1:
        return image
    note = f"pages scanned at {x:.0f}x{y:.0f} dpi were squared before OCR"
    if note not in warnings:
        warnings.append(note)
    width, height = image.size
    if x > y:
        return image.resize((width, round(height * x / y)), Image.Resampling.NEAREST)
    return image.resize((round(width * y / x), height), Image.Resampling.NEAREST)


def _check_pages(pages: int, max_pages: int) -> None:
    if pages == 0:
        raise InvalidInput("the document has no pages")
    if pages > max_pages:
        raise InvalidInput(f"{pages} pages is over the {max_pages}-page limit", status=413)


def _png(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None

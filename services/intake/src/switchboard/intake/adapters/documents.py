"""Letters and faxes: a PDF, TIFF or PNG → its text, page count and how it was read.

A PDF page with a text layer is read from it (pypdf); a page without one (a scan) and every TIFF or
PNG page is read by OCR. The mean OCR confidence is reported; under the threshold the contact is
flagged for manual review.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.ocr import Tesseract

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


async def read_document(data: bytes, *, max_pages: int, ocr: Tesseract) -> DocumentText:
    kind = kind_of(data)
    if kind == "pdf":
        return await _read_pdf(data, max_pages=max_pages, ocr=ocr)
    return await _read_images(kind, data, max_pages=max_pages, ocr=ocr)


async def _read_pdf(data: bytes, *, max_pages: int, ocr: Tesseract) -> DocumentText:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput("the PDF is encrypted")
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise InvalidInput(f"not a readable PDF: {type(error).__name__}") from None
    _check_pages(len(pages), max_pages)
    document = DocumentText("pdf", len(pages), "")
    read = _Pages(ocr)
    for number, page in enumerate(pages, start=1):
        try:
            layer = (page.extract_text() or "").strip()
        except Exception as error:  # pypdf raises many kinds on damaged content streams
            layer = ""
            document.warnings.append(
                f"page {number}: text layer unreadable ({type(error).__name__})"
            )
        images = (
            []
            if len("".join(layer.split())) >= MIN_TEXT_LAYER_CHARS
            else _page_images(page, number, document.warnings)
        )
        if images:
            document.ocr_pages += 1
            await read.scans(images)
        else:
            read.texts.append(layer)
    return read.into(document)


def _page_images(page: object, number: int, warnings: list[str]) -> list[Image.Image]:
    try:
        return [image.image for image in page.images if image.image is not None]  # type: ignore[attr-defined]
    except Exception as error:
        warnings.append(f"page {number}: images unreadable ({type(error).__name__})")
        return []


async def _read_images(kind: Kind, data: bytes, *, max_pages: int, ocr: Tesseract) -> DocumentText:
    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as error:
        raise InvalidInput(f"not a readable {kind.upper()} image: {type(error).__name__}") from None
    _check_pages(len(frames), max_pages)
    read = _Pages(ocr)
    await read.scans(frames)
    return read.into(DocumentText(kind, len(frames), "", ocr_pages=len(frames)))


class _Pages:
    """A document's text as it is read, page by page, with the OCR confidences."""

    def __init__(self, ocr: Tesseract) -> None:
        self.ocr = ocr
        self.texts: list[str] = []
        self.confidences: list[float] = []

    async def scans(self, images: list[Image.Image]) -> None:
        for image in images:
            result = await self.ocr.read(_png(image))
            self.texts.append(result.text)
            if result.confidence is not None:
                self.confidences.append(result.confidence)

    def into(self, document: DocumentText) -> DocumentText:
        document.text = "\n\n".join(t for t in self.texts if t).strip()
        document.ocr_confidence = _mean(self.confidences)
        return document


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

"""Reading a catalogue import: YAML (`products:` and `articles:`, as in the centre configuration)
or CSV (one product a row; lists separated by `;`, plans as `id:name:monthly:term_months`), and an
article's text from a PDF. Every problem is reported with where it is."""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from switchboard.catalogue.domain import Refused
from switchboard.common.catalogue_config import ArticleConfig, ProductConfig

MAX_PDF_PAGES = 500


class Import(BaseModel):
    products: list[ProductConfig] = []
    articles: list[ArticleConfig] = []


def _problems(error: ValidationError, where: str) -> str:
    return "; ".join(
        f"{where}{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:10]
    )


def from_yaml(text: str) -> Import:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Refused(f"not YAML: {error}") from None
    if not isinstance(data, dict):
        raise Refused("a catalogue import is a mapping with `products:` and/or `articles:`")
    try:
        return Import.model_validate(data)
    except ValidationError as error:
        raise Refused(_problems(error, "")) from None


def _list(cell: str | None) -> list[str]:
    return [item.strip() for item in (cell or "").split(";") if item.strip()]


def _flag(cell: str | None) -> bool:
    return (cell or "").strip().lower() in ("1", "true", "yes", "y")


def _product(row: dict[str, str | None]) -> dict[str, Any]:
    plans = []
    for plan in _list(row.get("plans")):
        parts = plan.split(":")
        if len(parts) != 4:
            raise ValueError(f"a plan is id:name:monthly:term_months, not {plan!r}")
        plans.append(
            {"id": parts[0], "name": parts[1], "monthly": parts[2], "term_months": parts[3] or 0}
        )
    product: dict[str, Any] = {
        "id": row.get("id"),
        "name": row.get("name"),
        "kind": row.get("kind") or "product",
        "description": row.get("description") or "",
        "features": _list(row.get("features")),
        "benefits": _list(row.get("benefits")),
        "price": row.get("price") or "0",
        "plans": plans,
        "queues": _list(row.get("queues")),
        "skills": _list(row.get("skills")),
        "eligibility": {
            "customer_types": _list(row.get("customer_types")),
            "states": _list(row.get("states")),
        },
        "credit_check": _flag(row.get("credit_check")),
        "delivery": _flag(row.get("delivery")),
        "retired": _flag(row.get("retired")),
    }
    if (row.get("installation_work_type") or "").strip():
        product["installation"] = {
            "work_type": row["installation_work_type"],
            "skills": _list(row.get("installation_skills")),
            "estimated_minutes": row.get("installation_minutes") or 120,
        }
    return product


def from_csv(text: str) -> Import:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"id", "name"} <= set(reader.fieldnames):
        raise Refused("a catalogue CSV has a header row with at least `id` and `name`")
    products = []
    for number, row in enumerate(reader, start=2):
        try:
            products.append(ProductConfig.model_validate(_product(row)))
        except ValidationError as error:
            raise Refused(_problems(error, f"line {number}: ")) from None
        except ValueError as error:
            raise Refused(f"line {number}: {error}") from None
    return Import(products=products)


def pdf_text(document: bytes) -> str:
    """The text of a PDF's pages (a scanned PDF without a text layer gives none: refused)."""
    try:
        reader = PdfReader(io.BytesIO(document))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise Refused(f"a PDF of more than {MAX_PDF_PAGES} pages")
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as error:
        raise Refused(f"not a readable PDF: {type(error).__name__}") from None
    if not text.strip():
        raise Refused("the PDF has no text layer (a scan: OCR it first)")
    return text.strip()

"""OCR with Tesseract (Debian's `tesseract-ocr`), run as a subprocess with a timeout.

Returns the text and Tesseract's mean word confidence (0 to 100), from its TSV output. Each run
uses one thread (OMP_THREAD_LIMIT=1): a page is read in about the same time, and several documents
read at once share the cores instead of each taking them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shutil
from dataclasses import dataclass

from switchboard.common.errors import InvalidInput, TransientError


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float | None


class Tesseract:
    def __init__(self, *, timeout_seconds: float, language: str = "eng") -> None:
        self.timeout_seconds = timeout_seconds
        self.language = language

    async def read(self, png: bytes) -> OcrResult:
        binary = shutil.which("tesseract")
        if binary is None:
            raise TransientError("tesseract is not installed (Debian package tesseract-ocr)")
        process = await asyncio.create_subprocess_exec(
            binary,
            "stdin",
            "stdout",
            "-l",
            self.language,
            "--psm",
            "3",
            "tsv",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(png), self.timeout_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise InvalidInput(
                f"OCR took longer than {self.timeout_seconds:.0f} s", status=422
            ) from None
        if process.returncode != 0:
            raise InvalidInput(
                f"OCR could not read the image: {err.decode(errors='replace')[:200]}"
            )
        return _from_tsv(out.decode("utf-8", errors="replace"))


def _from_tsv(tsv: str) -> OcrResult:
    lines: dict[tuple[str, str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, []).append(word)
        with contextlib.suppress(ValueError, TypeError):
            if float(row["conf"]) >= 0:
                confidences.append(float(row["conf"]))
    text = "\n".join(" ".join(words) for words in lines.values())
    confidence = round(sum(confidences) / len(confidences), 1) if confidences else None
    return OcrResult(text, confidence)

"""Split a batch scan into documents: at separator pages (blank pages, separator sheets,
barcode sheets) and, where there are none, at pages numbered "Page 1 of N".

The rules are data (``separators.toml``); this module only applies them to the pages'
words and barcodes (barcodes are read during OCR when splitting is asked for).
"""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pikepdf
from PIL import Image

from ecm.document import Document, Origin, Page
from ingest.sniff import PDF, TIFF

__all__ = ["SplitRules", "load_rules", "document_ranges", "split_document"]

RULES_FILE = Path(__file__).with_name("separators.toml")


@dataclass(frozen=True)
class SplitRules:
    blank_pages: bool
    blank_max_words: int
    sheet_max_words: int
    sheet_texts: tuple[re.Pattern, ...]
    barcode_values: tuple[re.Pattern, ...]
    first_page_patterns: tuple[re.Pattern, ...]


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> SplitRules:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))

    def patterns(key: str) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in data.get(key, []))

    return SplitRules(
        blank_pages=bool(data.get("blank_pages", True)),
        blank_max_words=int(data.get("blank_max_words", 2)),
        sheet_max_words=int(data.get("sheet_max_words", 40)),
        sheet_texts=patterns("sheet_texts"),
        barcode_values=patterns("barcode_values"),
        first_page_patterns=patterns("first_page_patterns"),
    )


def _is_separator(page: Page, rules: SplitRules) -> bool:
    words = [w for w in page.words if any(c.isalnum() for c in w.text)]
    if rules.blank_pages and len(words) <= rules.blank_max_words and not page.barcodes:
        return True
    if len(words) > rules.sheet_max_words:
        return False
    if any(p.search(value) for value in page.barcodes for p in rules.barcode_values):
        return True
    return any(p.search(page.text) for p in rules.sheet_texts)


def _starts_document(page: Page, rules: SplitRules) -> bool:
    # Only the top and bottom lines: "page 1 of 3" in a body paragraph is not a page number.
    lines = page.text.splitlines()
    edges = "\n".join(lines[:4] + lines[-4:])
    return any(p.search(edges) for p in rules.first_page_patterns)


def document_ranges(pages: list[Page], rules: SplitRules) -> list[list[int]]:
    """The page numbers of each document, in order; separator pages belong to none."""
    documents: list[list[int]] = []
    current: list[int] = []
    for page in pages:
        if _is_separator(page, rules):
            if current:
                documents.append(current)
            current = []
            continue
        if current and _starts_document(page, rules):
            documents.append(current)
            current = []
        current.append(page.number)
    if current:
        documents.append(current)
    return documents


def _cut_pdf(source: bytes | Path, numbers: list[int]) -> bytes:
    with pikepdf.open(io.BytesIO(source) if isinstance(source, bytes) else source) as src, pikepdf.new() as out:
        for number in numbers:
            out.pages.append(src.pages[number - 1])
        buffer = io.BytesIO()
        out.save(buffer, deterministic_id=True)  # the same pages make the same bytes (and sha256)
        return buffer.getvalue()


def _cut_tiff(path: Path, numbers: list[int]) -> bytes:
    frames = []
    with Image.open(path) as im:
        for number in numbers:
            im.seek(number - 1)
            frames.append(im.copy())
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return buffer.getvalue()


def split_document(doc: Document, original: Path, rules: SplitRules) -> list[Document]:
    """The documents inside a batch scan (``[doc]`` itself when it holds only one).

    Each part gets its own original (the pages cut from the batch file, content-addressed),
    its pages renumbered from 1, its part of the searchable PDF, and an ``origin`` naming
    the batch file and the pages it came from.
    """
    if doc.status != "ok" or doc.media_type not in (PDF, TIFF) or len(doc.pages) < 2:
        return [doc]
    ranges = document_ranges(doc.pages, rules)
    if len(ranges) == 1 and len(ranges[0]) == len(doc.pages):
        return [doc]
    by_number = {p.number: p for p in doc.pages}
    parts = []
    for numbers in ranges:
        data = _cut_pdf(original, numbers) if doc.media_type == PDF else _cut_tiff(original, numbers)
        searchable = _cut_pdf(doc.searchable_pdf, numbers) if doc.searchable_pdf else None
        pages = [by_number[n].model_copy(update={"number": i}) for i, n in enumerate(numbers, start=1)]
        parts.append(doc.model_copy(update={
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "source": f"{doc.source}#pages={numbers[0]}-{numbers[-1]}",
            "pages": pages, "searchable_pdf": searchable, "original": data,
            "origin": Origin(sha256=doc.sha256, source=doc.source, pages=numbers),
        }))
    return parts

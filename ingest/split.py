"""Split a batch scan into documents: at separator pages (blank pages, separator sheets,
barcode sheets, Kodak patch-code sheets) and, where there are none, at pages that show
they start a new document ("Page 1 of N", an invoice header with a new invoice number, a
contract's title page, a change of paper or of source).

The rules are data (``separators.toml``); this module only applies them to the pages'
words, sizes and barcodes (barcodes and patch codes are read during OCR when splitting is
asked for; patch codes arrive as ``PATCH:<code>`` among a page's barcodes).

Without separators the rules lean towards not splitting: a wrong split cuts a document in
two, and nobody notices until a search finds half of it, while a missed split leaves two
documents in one record that a person sees at once and fixes. So a page needs one strong
sign or two weaker ones, and signs of a continuation (page 2 of N, "continued") veto all.
Every part carries the reason it starts where it does.
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
from rapidfuzz import fuzz

from ecm.document import Document, Origin, Page
from ingest.sniff import PDF, TIFF

__all__ = ["SplitRules", "Part", "PATCH_PREFIX", "load_rules", "document_parts", "document_ranges",
           "split_batch", "split_document"]

RULES_FILE = Path(__file__).with_name("separators.toml")
PATCH_PREFIX = "PATCH:"  # a page's barcodes hold "PATCH:2" for a patch 2 sheet


@dataclass(frozen=True)
class SplitRules:
    blank_pages: bool
    blank_max_words: int
    sheet_max_words: int
    sheet_texts: tuple[re.Pattern, ...]
    barcode_values: tuple[re.Pattern, ...]
    patch_separators: frozenset[str]
    first_page_patterns: tuple[re.Pattern, ...]
    # Boundaries without separators (see [boundaries] in separators.toml).
    boundary_score: float
    weights: dict[str, float]
    top_of_page: float
    paper_tolerance_inches: float
    continuation_marks: tuple[re.Pattern, ...]
    continuation_headers: tuple[re.Pattern, ...]
    continued_overleaf: tuple[re.Pattern, ...]
    invoice_headers: tuple[re.Pattern, ...]
    invoice_numbers: tuple[re.Pattern, ...]
    title_lines: tuple[re.Pattern, ...]
    title_vetoes: tuple[re.Pattern, ...]
    recitals: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class Part:
    """One document in a batch: its pages (the batch's numbering) and why it starts there."""

    pages: list[int]
    reason: str


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> SplitRules:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    bounds = data.get("boundaries", {})

    def patterns(table: dict, key: str) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in table.get(key, []))

    return SplitRules(
        blank_pages=bool(data.get("blank_pages", True)),
        blank_max_words=int(data.get("blank_max_words", 2)),
        sheet_max_words=int(data.get("sheet_max_words", 40)),
        sheet_texts=patterns(data, "sheet_texts"),
        barcode_values=patterns(data, "barcode_values"),
        patch_separators=frozenset(str(c).upper() for c in data.get("patch_separators", ["1", "2", "3", "6", "T"])),
        first_page_patterns=patterns(data, "first_page_patterns"),
        boundary_score=float(bounds.get("boundary_score", 1.0)),
        weights={k: float(v) for k, v in bounds.get("weights", {}).items()},
        top_of_page=float(bounds.get("top_of_page", 0.35)),
        paper_tolerance_inches=float(bounds.get("paper_tolerance_inches", 0.4)),
        continuation_marks=patterns(bounds, "continuation_marks"),
        continuation_headers=patterns(bounds, "continuation_headers"),
        continued_overleaf=patterns(bounds, "continued_overleaf"),
        invoice_headers=patterns(bounds, "invoice_headers"),
        invoice_numbers=patterns(bounds, "invoice_numbers"),
        title_lines=patterns(bounds, "title_lines"),
        title_vetoes=patterns(bounds, "title_vetoes"),
        recitals=patterns(bounds, "recitals"),
    )


# ---- separator pages ---------------------------------------------------------------

def _word_count(page: Page) -> int:
    return sum(1 for w in page.words if any(c.isalnum() for c in w.text))


def _sheet(page: Page, rules: SplitRules) -> tuple[bool, str] | None:
    """Is the page a sheet to drop? ``(ends_document, what it is)``, or None for content."""
    words = _word_count(page)
    patches = [v[len(PATCH_PREFIX):] for v in page.barcodes if v.startswith(PATCH_PREFIX)]
    barcodes = [v for v in page.barcodes if not v.startswith(PATCH_PREFIX)]
    if patches and words <= rules.sheet_max_words:
        # A patch sheet is a control sheet, never content: dropped either way. Codes not
        # listed in patch_separators (patch 4, "toggle") mean "same document goes on".
        separating = [c for c in patches if c.upper() in rules.patch_separators]
        return (True, f"patch {separating[0]} sheet") if separating else (False, f"patch {patches[0]} sheet")
    if rules.blank_pages and words <= rules.blank_max_words and not page.barcodes:
        return True, "blank page"
    if words > rules.sheet_max_words:
        return None
    for value in barcodes:
        if any(p.search(value) for p in rules.barcode_values):
            return True, f"barcode sheet {value[:40]!r}"
    if any(p.search(page.text) for p in rules.sheet_texts):
        return True, "separator sheet"
    return None


# ---- first-page evidence -------------------------------------------------------------

@dataclass(frozen=True)
class _Look:
    """What the boundary rules need to know about one page (computed once per page)."""

    top: list[str]  # visual rows (words side by side, left to right) in the top of the page
    head: str  # the first four text lines
    foot: str  # the last four (page numbers live in these two)
    inches: tuple[float, float] | None  # (width, height) when known
    source: str
    invoice_header: bool
    invoice_number: str | None
    vendor: str | None
    title: str | None


def _rows(page: Page, top_fraction: float) -> list[str]:
    """Rows of words as a reader sees them (a label and its value far to the right are one
    row), top to bottom, for the top ``top_fraction`` of the page."""
    limit = page.height * top_fraction if page.height else float("inf")
    rows: list[list] = []  # [centre y, height, words]
    for w in sorted(page.words, key=lambda w: (w.bbox[1] + w.bbox[3]) / 2):
        if w.bbox[1] > limit:
            break
        centre, height = (w.bbox[1] + w.bbox[3]) / 2, w.bbox[3] - w.bbox[1]
        if rows and abs(centre - rows[-1][0]) <= 0.5 * max(height, rows[-1][1]):
            rows[-1][2].append(w)
        else:
            rows.append([centre, height, [w]])
    return [" ".join(w.text for w in sorted(ws, key=lambda w: w.bbox[0])) for _, _, ws in rows]


def _inches(page: Page) -> tuple[float, float] | None:
    if not page.width or not page.height:
        return None
    if page.unit == "pt":
        return page.width / 72, page.height / 72
    return (page.width / page.dpi, page.height / page.dpi) if page.dpi else None


def _comparable(number: str) -> str:
    """An invoice number as OCR might misread it: letters that look like digits are digits."""
    return re.sub(r"[^A-Z0-9]", "", number.upper()).translate(str.maketrans("OILSBZ", "011582"))


def _look(page: Page, rules: SplitRules) -> _Look:
    top = _rows(page, rules.top_of_page)
    top_text = "\n".join(top)
    lines = page.text.splitlines()
    header = any(p.search(top_text) for p in rules.invoice_headers)
    number = None
    if header:
        for pattern in rules.invoice_numbers:
            match = pattern.search(top_text)
            if match:
                number = match.group(match.lastindex or 0)
                break
    vendor = None
    if header:
        for row in top[:3]:
            name = row
            for pattern in rules.invoice_headers:
                name = pattern.sub(" ", name)
            name = " ".join(name.split())
            if sum(c.isalpha() for c in name) >= 4:
                vendor = name
                break
    title = None
    for i, row in enumerate(top):
        if any(p.search(row) for p in rules.title_lines) and not any(p.search(row) for p in rules.title_vetoes):
            following = "\n".join(top[i + 1:i + 7])
            if any(p.search(following) for p in rules.recitals):
                title = row.strip()
            break
    return _Look(
        top=top, head="\n".join(lines[:4]), foot="\n".join(lines[-4:]), inches=_inches(page), source=page.source,
        invoice_header=header, invoice_number=number, vendor=vendor, title=title,
    )


def _seen_before(title: str, before: _Look) -> bool:
    """Is the title at the top of the page before too (a running header, or a cover page)?"""
    title = title.lower().replace("&", "and")
    return any(fuzz.token_set_ratio(title, row.lower().replace("&", "and")) >= 85 for row in before.top[:6])


def _paper(inches: tuple[float, float]) -> str:
    return f"{inches[0]:.1f}x{inches[1]:.1f} in"


def _evidence(page: _Look, before: _Look, document: list[_Look], rules: SplitRules) -> tuple[float, list[str]]:
    """How strongly ``page`` starts a new document after ``before`` (the previous page of the
    current ``document``), and the signs seen. Continuation marks veto everything."""
    edges = page.head + "\n" + page.foot
    if any(p.search(edges) for p in rules.continuation_marks) \
            or any(p.search(page.head) for p in rules.continuation_headers) \
            or any(p.search(before.foot) for p in rules.continued_overleaf):
        return 0.0, []
    weight = rules.weights.get
    signs: list[tuple[float, str]] = []
    if any(p.search(edges) for p in rules.first_page_patterns):
        signs.append((weight("page_one_of_n", 1.0), "numbered as page 1"))
    # Invoices: the number the document has so far, and its vendor.
    numbers = [p.invoice_number for p in document if p.invoice_number]
    vendors = [p.vendor for p in document if p.invoice_header and p.vendor]
    if page.invoice_header:
        if page.invoice_number and numbers:
            if _comparable(page.invoice_number) == _comparable(numbers[-1]):
                return 0.0, []  # the same invoice number: its next page
            signs.append((weight("invoice_number_changed", 1.0),
                          f"invoice number {page.invoice_number} after {numbers[-1]}"))
        elif page.vendor and vendors and fuzz.token_set_ratio(page.vendor, vendors[-1]) < 60:
            signs.append((weight("vendor_changed", 0.75), f"invoice header of {page.vendor!r} after {vendors[-1]!r}"))
        else:
            signs.append((weight("header_at_top", 0.5), "invoice header at the top"))
    if page.title and not _seen_before(page.title, before):
        signs.append((weight("contract_title_page", 1.0), f"title page {page.title[:60]!r}"))
    if page.inches and before.inches:
        (w, h), (w0, h0) = page.inches, before.inches
        tolerance = rules.paper_tolerance_inches
        if abs(min(w, h) - min(w0, h0)) > tolerance or abs(max(w, h) - max(w0, h0)) > tolerance:
            signs.append((weight("paper_changed", 0.5), f"paper {_paper(page.inches)} after {_paper(before.inches)}"))
        elif (w > h) != (w0 > h0):
            signs.append((weight("orientation_changed", 0.25), "landscape" if w > h else "portrait"))
    if {page.source, before.source} == {"text", "ocr"}:
        signs.append((weight("source_changed", 0.5),
                      "scanned page after a text layer" if page.source == "ocr" else "text layer after scanned pages"))
    return sum(s for s, _ in signs), [text for s, text in signs if s > 0]


def document_parts(pages: list[Page], rules: SplitRules) -> list[Part]:
    """The documents in a batch, in order, each with the reason it starts where it does.
    Separator pages belong to none."""
    parts: list[Part] = []
    current: list[int] = []
    looks: list[_Look] = []  # of the current document's pages
    reason = "start of the batch"
    for page in pages:
        sheet = _sheet(page, rules)
        if sheet is not None:
            ends, what = sheet
            if ends:
                if current:
                    parts.append(Part(current, reason))
                current, looks = [], []
                reason = f"after a {what} (page {page.number})"
            continue
        look = _look(page, rules)
        if current:
            score, signs = _evidence(look, looks[-1], looks, rules)
            if score >= rules.boundary_score:
                parts.append(Part(current, reason))
                current, looks = [], []
                reason = f"page {page.number} starts a document: " + "; ".join(signs)
        current.append(page.number)
        looks.append(look)
    if current:
        parts.append(Part(current, reason))
    return parts


def document_ranges(pages: list[Page], rules: SplitRules) -> list[list[int]]:
    """The page numbers of each document, in order; separator pages belong to none."""
    return [part.pages for part in document_parts(pages, rules)]


# ---- cutting the batch -------------------------------------------------------------------

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


def split_batch(doc: Document, original: Path, rules: SplitRules) -> list[tuple[Document, str | None]]:
    """The documents inside a batch scan, each with the reason it starts where it does
    (``[(doc, None)]`` when the batch holds one document and nothing was dropped).

    Each part gets its own original (the pages cut from the batch file, content-addressed),
    its pages renumbered from 1, its part of the searchable PDF, and an ``origin`` naming
    the batch file and the pages it came from.
    """
    if doc.status != "ok" or doc.media_type not in (PDF, TIFF) or len(doc.pages) < 2:
        return [(doc, None)]
    parts = document_parts(doc.pages, rules)
    if len(parts) == 1 and len(parts[0].pages) == len(doc.pages):
        return [(doc, None)]
    by_number = {p.number: p for p in doc.pages}
    out = []
    for part in parts:
        numbers = part.pages
        data = _cut_pdf(original, numbers) if doc.media_type == PDF else _cut_tiff(original, numbers)
        searchable = _cut_pdf(doc.searchable_pdf, numbers) if doc.searchable_pdf else None
        pages = [by_number[n].model_copy(update={"number": i}) for i, n in enumerate(numbers, start=1)]
        out.append((doc.model_copy(update={
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "source": f"{doc.source}#pages={numbers[0]}-{numbers[-1]}",
            "pages": pages, "searchable_pdf": searchable, "original": data,
            "origin": Origin(sha256=doc.sha256, source=doc.source, pages=numbers),
        }), part.reason))
    return out


def split_document(doc: Document, original: Path, rules: SplitRules) -> list[Document]:
    """The documents inside a batch scan (``[doc]`` itself when it holds only one)."""
    return [part for part, _ in split_batch(doc, original, rules)]

"""Synthetic documents for the classify/extract tests (helpers only, no tests here): rows of (text, x) on a page."""

from __future__ import annotations

from ecm.document import DocType, Document, Page, Word

__all__ = ["page_from_rows", "document", "text_page"]

CHAR_W = 6.0
ROW_H = 10.0


def page_from_rows(rows: list[list[tuple[str, float]]], number: int = 1, width: float = 612,
                   height: float = 792, unit: str = "pt", top: float = 40, line_gap: float = 16,
                   conf: float = 1.0) -> Page:
    """Each row is a list of (phrase, x); a phrase's words get consecutive boxes on one line."""
    words: list[Word] = []
    line = 0
    for r, row in enumerate(rows):
        y = top + r * line_gap
        for phrase, x in row:
            for token in phrase.split():
                w = len(token) * CHAR_W
                words.append(Word(text=token, bbox=(x, y, x + w, y + ROW_H), conf=conf, line=line))
                x += w + CHAR_W
            line += 1  # each phrase is its own layout line, as OCR blocks often are
    return Page(number=number, width=width, height=height, unit=unit,
                source="text" if unit == "pt" else "ocr", dpi=None if unit == "pt" else 300, words=words)


def text_page(text: str, number: int = 1, width_chars: int = 95) -> Page:
    """A page of running text, wrapped at ``width_chars``."""
    rows: list[list[tuple[str, float]]] = []
    for para in text.strip().split("\n"):
        current = ""
        for word in para.split():
            if current and len(current) + 1 + len(word) > width_chars:
                rows.append([(current, 40)])
                current = word
            else:
                current = f"{current} {word}".strip()
        if current:
            rows.append([(current, 40)])
    return page_from_rows(rows, number=number, line_gap=14)


def document(pages: list[Page], label: str | None = None) -> Document:
    doc = Document(source="synthetic.pdf", sha256="0" * 64, pages=pages)
    if label:
        doc = doc.model_copy(update={"doc_type": DocType(label=label, confidence=0.99)})
    return doc

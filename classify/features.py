"""What the classifier sees of a document: normalised text of its first pages + a few layout numbers.

Only the first ``FIRST_PAGES`` pages are used so that a 15-page born-digital contract and its
2-page scanned derivative look alike, and nothing says whether a page had a text layer
(word confidences, page units and page counts are deliberately left out).
"""

from __future__ import annotations

import re

from ecm.document import Document, Page

__all__ = ["FIRST_PAGES", "LAYOUT_FEATURES", "document_text", "normalise_text", "layout_vector"]

FIRST_PAGES = 2
MAX_CHARS = 12_000  # enough to type a document; keeps long contracts from dominating

_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")
_AMOUNT = re.compile(r"^\D{0,3}\d{1,3}(?:[,.]\d{3})*[.,]\d{2}\D{0,2}$")

LAYOUT_FEATURES = ("page_aspect", "digit_token_share", "amount_token_share", "words_per_line")


def normalise_text(text: str) -> str:
    """Lower-case, every digit becomes 0 (amounts and dates then share n-grams), spaces collapsed."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def document_text(doc: Document) -> str:
    text = "\n".join(p.text for p in doc.pages[:FIRST_PAGES])
    return normalise_text(text)[:MAX_CHARS]


def _aspect(page: Page) -> float:
    # Receipts are tall and narrow; A4/Letter pages are ~1.3-1.4 whether scanned or not.
    if page.width <= 0:
        return 1.4
    return min(page.height / page.width, 4.0)


def layout_vector(doc: Document) -> list[float]:
    pages = doc.pages[:FIRST_PAGES]
    words = [w for p in pages for w in p.words]
    if not words:
        return [1.4, 0.0, 0.0, 0.0]
    digit = sum(1 for w in words if _DIGITS.search(w.text)) / len(words)
    amount = sum(1 for w in words if _AMOUNT.match(w.text)) / len(words)
    lines = len({(p.number, w.line) for p in pages for w in p.words})
    per_line = min(len(words) / max(lines, 1), 20.0) / 20.0
    return [_aspect(pages[0]) / 4.0, digit, amount, per_line]

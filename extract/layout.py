"""Lines, rows and label -> value geometry over a document's word boxes.

OCR splits one visual row into several "lines" when words sit in different blocks, so a value
"right of" its label is looked for by geometry (same row, further right), not by line index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ecm.document import Document, Word
from extract.rules import FieldRule, Label, tokens

__all__ = ["Line", "LabelHit", "TextIndex", "doc_lines", "segment_lines", "union_box", "find_label",
           "words_right_of", "words_below"]

Box = tuple[float, float, float, float]


@dataclass
class Line:
    page: int  # 1-based
    page_width: float
    page_height: float
    words: list[Word]
    order: int  # reading order over the whole document
    toks: list[str] = field(default_factory=list)  # label-matching tokens
    tok_word: list[int] = field(default_factory=list)  # token index -> word index

    def __post_init__(self) -> None:
        for i, w in enumerate(self.words):
            for t in tokens(w.text):
                self.toks.append(t)
                self.tok_word.append(i)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> Box:
        return union_box(self.words)

    @property
    def height(self) -> float:
        x0, y0, x1, y1 = self.bbox
        return max(y1 - y0, 1.0)


def union_box(words: list[Word]) -> Box:
    return (min(w.bbox[0] for w in words), min(w.bbox[1] for w in words),
            max(w.bbox[2] for w in words), max(w.bbox[3] for w in words))


def doc_lines(doc: Document) -> list[Line]:
    """Every non-empty line of the document, page by page, top to bottom."""
    lines: list[Line] = []
    for page in doc.pages:
        groups: dict[int, list[Word]] = {}
        for w in page.words:
            groups.setdefault(w.line, []).append(w)
        ordered = sorted(groups.values(), key=lambda ws: (min(w.bbox[1] for w in ws), min(w.bbox[0] for w in ws)))
        for ws in ordered:
            ws = sorted(ws, key=lambda w: w.bbox[0])
            lines.append(Line(page.number, page.width, page.height, ws, len(lines)))
    return lines


def segment_lines(lines: list[Line], min_gap_heights: float = 2.5, min_gap_share: float = 0.06) -> list[Line]:
    """Lines cut where a wide horizontal gap separates columns ("Company ABC      TO: John Doe"),
    renumbered in reading order (top to bottom, then left to right)."""
    pieces: list[Line] = []
    for line in lines:
        h = line.height
        current = [line.words[0]]
        for prev, w in zip(line.words, line.words[1:]):
            if w.bbox[0] - prev.bbox[2] > max(min_gap_heights * h, min_gap_share * line.page_width):
                pieces.append(Line(line.page, line.page_width, line.page_height, current, 0))
                current = []
            current.append(w)
        pieces.append(Line(line.page, line.page_width, line.page_height, current, 0))
    pieces.sort(key=lambda l: (l.page, l.bbox[1], l.bbox[0]))
    for i, piece in enumerate(pieces):
        piece.order = i
    return pieces


# ---------------------------------------------------------------- labels

@dataclass(frozen=True)
class LabelHit:
    line: Line
    label: Label
    first_word: int
    last_word: int  # inclusive
    score: float  # label weight x match quality

    @property
    def words(self) -> list[Word]:
        return self.line.words[self.first_word:self.last_word + 1]

    @property
    def bbox(self) -> Box:
        return union_box(self.words)


def _token_matches(tok: str, want: str, min_ratio: float) -> float:
    if tok == want:
        return 1.0
    if len(want) >= 4 and len(tok) >= 3 and fuzz.ratio(tok, want) >= min_ratio:
        return 0.9  # OCR-mangled ("t0tal", "lnvoice")
    return 0.0


def find_label(line: Line, rule: FieldRule, min_ratio: float) -> LabelHit | None:
    """The best label of ``rule`` on ``line`` (longest labels first), or None when the line
    carries one of the rule's exclusion words."""
    toks = line.toks
    if not toks:
        return None
    joined = " " + " ".join(toks) + " "
    # "Total (incl. GST)": a lifting word, also as OCR misreads it ("inciusive"), lifts the veto.
    lifting = any(t in rule.lifted_by or (len(t) >= 5 and any(fuzz.ratio(t, l) >= 85 for l in rule.lifted_by if len(l) >= 5))
                  for t in toks)
    lifted = rule.liftable if lifting else frozenset()
    for ex in rule.exclude - lifted:
        if f" {ex} " in joined or (len(ex) >= 5 and any(fuzz.ratio(ex, t) >= 90 for t in toks)):
            return None
    best: LabelHit | None = None
    for label in rule.labels:
        n = len(label.tokens)
        for start in range(0, len(toks) - n + 1):
            quality = 1.0
            for k, want in enumerate(label.tokens):
                quality *= _token_matches(toks[start + k], want, min_ratio)
                if not quality:
                    break
            if quality:
                score = label.weight * quality
                if best is None or score > best.score:
                    best = LabelHit(line, label, line.tok_word[start], line.tok_word[start + n - 1], score)
                break
        if n >= 2 and (best is None or label.weight > best.score):
            # "NETTOTAL": OCR lost the space inside a label (exactly that, no fuzzy match).
            glued = "".join(label.tokens)
            if glued in toks:
                start = toks.index(glued)
                best = LabelHit(line, label, line.tok_word[start], line.tok_word[start], label.weight)
    return best


# ---------------------------------------------------------------- value geometry

def words_right_of(hit: LabelHit, lines: list[Line], max_words: int = 12) -> list[Word]:
    """Words after the label on its own row (same line, or other lines at the same height)."""
    x0, y0, x1, y1 = hit.bbox
    h = max(y1 - y0, 1.0)
    same_line = hit.line.words[hit.last_word + 1:]
    others = [
        w for line in lines
        if line.page == hit.line.page and line is not hit.line
        for w in line.words
        if w.bbox[0] >= x1 - 1 and (abs((w.bbox[1] + w.bbox[3]) / 2 - (y0 + y1) / 2) < 0.6 * h
                                    or min(y1, w.bbox[3]) - max(y0, w.bbox[1]) >= 0.5 * h)  # a taller value box
    ]
    # Receipts print the amount far right of its label, so no gap limit: the value parsers
    # take the first value-looking word in reading order.
    row = sorted(same_line + others, key=lambda w: w.bbox[0])
    out = row[:max_words]
    return out


RUN_ON_GAP = 1.2  # label heights: a wider gap between two words of a line starts another column


def words_below(hit: LabelHit, lines: list[Line], max_lines: float = 2.0) -> list[Word]:
    """Words of the first line under the label that sit in the label's column, and the words
    running on from them to the right without a column's gap ("DEMO - Sliced Invoices" under a
    short "From:")."""
    x0, y0, x1, y1 = hit.bbox
    h = max(y1 - y0, 1.0)
    slack = max(x1 - x0, 3 * h)
    for line in lines[hit.line.order + 1:hit.line.order + 12]:
        if line.page != hit.line.page:
            break
        lx0, ly0, lx1, ly1 = line.bbox
        if ly0 < y1 - 0.3 * h:
            continue  # same row or above
        if ly0 - y1 > max_lines * 1.8 * h:
            break
        col = [w for w in line.words if w.bbox[2] > x0 - slack * 0.5 and w.bbox[0] < x1 + slack]
        if col:
            rest = sorted((w for w in line.words if w.bbox[0] >= col[-1].bbox[2]), key=lambda w: w.bbox[0])
            for w in rest:
                if w.bbox[0] - col[-1].bbox[2] > RUN_ON_GAP * h:
                    break
                col.append(w)
            return col
    return []


# ---------------------------------------------------------------- text with word offsets

class TextIndex:
    """The document's text (lines joined by newlines) with a map from characters to words,
    so a regex match over text can be turned back into a page and a box."""

    def __init__(self, lines: list[Line]):
        parts: list[str] = []
        self.spans: list[tuple[int, int, Line, Word]] = []
        pos = 0
        for line in lines:
            for i, w in enumerate(line.words):
                if i:
                    parts.append(" ")
                    pos += 1
                parts.append(w.text)
                self.spans.append((pos, pos + len(w.text), line, w))
                pos += len(w.text)
            parts.append("\n")
            pos += 1
        self.text = "".join(parts)
        self._starts = [s for s, _, _, _ in self.spans]

    def words_in(self, start: int, end: int) -> tuple[int, list[Word]]:
        """(page, words) covered by text[start:end], restricted to the page of the first word."""
        import bisect

        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        out: list[Word] = []
        page = None
        while i < len(self.spans) and self.spans[i][0] < end:
            s, e, line, w = self.spans[i]
            if e > start:
                if page is None:
                    page = line.page
                if line.page == page:
                    out.append(w)
            i += 1
        return (page or 1), out

    def line_at(self, pos: int) -> Line | None:
        import bisect

        i = max(0, bisect.bisect_right(self._starts, pos) - 1)
        return self.spans[i][2] if self.spans else None


def text_of(words: list[Word]) -> str:
    return " ".join(w.text for w in words)



"""A second reading of small single images with RapidOCR (PP-OCRv4 detection + recognition, ONNX
models that ship in the ``rapidocr-onnxruntime`` wheel; nothing is downloaded).

Tesseract reads clean page scans well but loses much of a phone photo or a small, faint till
receipt. Measured on the 90 dev receipts (camera JPEGs, 450-1100 px wide): gold vendor names,
addresses and totals found verbatim in the text, Tesseract 0.67, RapidOCR 0.80 (totals 0.89 ->
0.99); on 600 dpi scans both 0.89. RapidOCR's recogniser, though, drops most spaces between
English words ("JalanPelabur23/1"), and neither its character boxes nor blank columns in the
image put them back reliably. Tesseract's word segmentation does: so the page is read by both,
RapidOCR's characters are cut into words where Tesseract saw a gap between two words
(``_line_words``). Receipts micro-F1 (bench/accuracy.py): Tesseract 0.674, both 0.723.

Where the two engines read a word differently, one of them is wrong: ``cross_checked`` lowers
that word's confidence, so a vendor name or address holding it is less likely to pass straight
through (on dev receipts a name both engines agree on is right 82% of the time, one they
disagree on 45%).

It costs about five times Tesseract's CPU per page, so ``ingest.ocr.uses_rapidocr`` gives it only
small single images. Lines on one visual row share a line number (so "TOTAL" and its amount stay
one line for the layout rules), and the searchable PDF page (image + invisible text on the word
boxes) is written here with fpdf2, since Tesseract's page carries Tesseract's text.
"""

from __future__ import annotations

import io
import os
import statistics
import unicodedata
from functools import lru_cache

import numpy as np
from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image

from ecm.document import Word

__all__ = ["read_words", "cross_checked", "searchable_page"]

Box = tuple[float, float, float, float]

# Average glyph width of Helvetica in em: to stretch invisible words over their boxes.
_EM_PER_CHAR = 0.5
# With no Tesseract word on a line: characters this many character widths apart are two words.
_GAP_WITHOUT_TESSERACT = 0.75


@lru_cache(maxsize=1)
def _engine():
    # One engine per worker process (models load once, ~0.5 s); single-threaded like Tesseract,
    # parallelism is per process (ecm.executor).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)


def _rows(boxes: list[Box]) -> list[list[int]]:
    """Indexes of ``boxes`` grouped into visual rows (vertical centres within half a line
    height), rows top to bottom, each row left to right."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1] + boxes[i][3]) / 2)
    rows: list[list[int]] = []
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        if rows:
            last = rows[-1]
            ry0 = min(boxes[j][1] for j in last)
            ry1 = max(boxes[j][3] for j in last)
            if abs((y0 + y1) / 2 - (ry0 + ry1) / 2) <= 0.5 * min(y1 - y0, ry1 - ry0):
                last.append(i)
                continue
        rows.append([i])
    return [sorted(row, key=lambda j: boxes[j][0]) for row in rows]


def _word_gaps(words: list[Word], box: Box) -> list[tuple[float, float]] | None:
    """The gaps between consecutive words Tesseract read inside ``box`` (x from, x to), or None
    when it read no word there."""
    x0, y0, x1, y1 = box
    inside = [w for w in words if y0 <= (w.bbox[1] + w.bbox[3]) / 2 <= y1 and w.bbox[2] > x0 and w.bbox[0] < x1]
    if not inside:
        return None
    by_line: dict[int, list[Word]] = {}
    for w in inside:
        by_line.setdefault(w.line, []).append(w)
    gaps = []
    for line in by_line.values():
        line.sort(key=lambda w: w.bbox[0])
        gaps.extend((a.bbox[2], b.bbox[0]) for a, b in zip(line, line[1:]))
    return gaps


def _line_words(char_quads: list, text: str, conf: float, line: int,
                gaps: list[tuple[float, float]] | None) -> list[Word]:
    """One recognised line cut into words: at its own spaces, and between two characters where
    Tesseract saw a gap between words (``gaps``); with no Tesseract words there, where the
    characters' boxes are most of a character apart."""
    chars = [(c, min(p[0] for p in q), min(p[1] for p in q), max(p[0] for p in q), max(p[1] for p in q))
             for c, q in zip(text, char_quads)]
    solid = [ch for ch in chars if not ch[0].isspace()]
    if not solid:
        return []
    width = statistics.median(ch[3] - ch[1] for ch in solid)
    groups: list[list[tuple]] = [[]]
    for ch in chars:
        if ch[0].isspace():
            groups.append([])
            continue
        if groups[-1]:
            prev = groups[-1][-1]
            if gaps is None:
                split = ch[1] - prev[3] >= max(_GAP_WITHOUT_TESSERACT * width, 1.0)
            else:
                left, right = (prev[1] + prev[3]) / 2, (ch[1] + ch[3]) / 2
                split = any(left < (a + b) / 2 < right for a, b in gaps)
            if split:
                groups.append([])
        groups[-1].append(ch)
    return [Word(text="".join(ch[0] for ch in g),
                 bbox=(min(ch[1] for ch in g), min(ch[2] for ch in g), max(ch[3] for ch in g), max(ch[4] for ch in g)),
                 conf=conf, line=line)
            for g in groups if g]


def read_words(image: Image.Image, tesseract_words: list[Word]) -> list[Word]:
    """RapidOCR's words (pixels of ``image``) with confidences and visual line numbers, cut into
    words where Tesseract (``tesseract_words``, read from the same image) saw word gaps; a word
    the two engines read differently is marked unsure (``cross_checked``)."""
    array = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # BGR, like OpenCV
    result, _elapsed = _engine()(array, return_word_box=True)
    lines: list[tuple[Box, list, str, float]] = []
    for quad, text, score, *chars in result or []:
        text = unicodedata.normalize("NFKC", str(text))  # full-width "（" as "("
        if not text.strip() or not chars or len(chars[0]) != len(text):
            continue
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        box = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
        lines.append((box, chars[0], text, max(0.0, min(1.0, float(score)))))
    words: list[Word] = []
    for number, row in enumerate(_rows([line[0] for line in lines])):
        for i in row:
            box, quads, text, score = lines[i]
            words.extend(_line_words(quads, text, score, number, _word_gaps(tesseract_words, box)))
    return cross_checked(words, tesseract_words)


def _key(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


# How much less sure a word is when Tesseract read that place differently, or saw nothing there.
# Chosen in CV on the dev set (bench/accuracy.py, vendor book; one run, same extraction for all):
# with these factors 24 documents (10.3%) went straight through at >= 98% right values; halving
# the lower of the two engines' confidences, 19 (and it hid faint receipts' names); none, 18.
DISAGREE = 0.7
UNSEEN = 0.85


def cross_checked(words: list[Word], tesseract_words: list[Word]) -> list[Word]:
    """``words`` with confidences checked against Tesseract's reading of the same place: a word
    both engines read alike keeps its confidence; one they read differently is less sure (one
    engine is wrong and nothing says which), one Tesseract did not see a little less sure."""
    out = []
    for w in words:
        x0, y0, x1, y1 = w.bbox
        same_place = [t for t in tesseract_words
                      if x0 <= (t.bbox[0] + t.bbox[2]) / 2 <= x1
                      and min(y1, t.bbox[3]) - max(y0, t.bbox[1]) >= 0.5 * min(y1 - y0, t.bbox[3] - t.bbox[1])]
        same_place.sort(key=lambda t: t.bbox[0])
        if same_place and _key("".join(t.text for t in same_place)) == _key(w.text):
            out.append(w)
            continue
        factor = DISAGREE if same_place else UNSEEN
        out.append(w.model_copy(update={"conf": round(factor * w.conf, 4)}))
    return out


def searchable_page(image: Image.Image, dpi: int, words: list[Word]) -> bytes:
    """A one-page PDF: the page image with each word as invisible, selectable text on its box."""
    scale = 72.0 / dpi
    pdf = FPDF(unit="pt", format=(image.width * scale, image.height * scale))
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_page()
    jpeg = io.BytesIO()
    image.convert("L" if image.mode in ("1", "L") else "RGB").save(jpeg, format="JPEG", quality=80)
    pdf.image(jpeg, x=0, y=0, w=image.width * scale, h=image.height * scale)
    pdf.text_mode = TextMode.INVISIBLE
    for word in words:
        x0, y0, x1, y1 = (c * scale for c in word.bbox)
        text = word.text.encode("latin-1", "replace").decode("latin-1")  # the core font's charset
        size = max(1.0, (y1 - y0) * 0.9)
        pdf.set_font("helvetica", size=size)
        natural = max(1e-3, _EM_PER_CHAR * size * len(text))
        pdf.set_stretching(max(10.0, min(1000.0, 100.0 * (x1 - x0) / natural)))
        pdf.text(x0, y1 - 0.2 * (y1 - y0), text)
    return bytes(pdf.output())

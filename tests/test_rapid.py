"""The second reading (ingest.rapid: RapidOCR text, Tesseract word boundaries) and which pages
get it (ingest.ocr.uses_rapidocr)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from ecm.config import OcrConfig
from ingest import rapid
from ingest.ocr import PageJob, ocr_page, uses_rapidocr
from ingest.sniff import JPEG, PDF

LINES = ["SUNRISE HARDWARE SDN BHD", "NO 12 JALAN MERANTI 3", "47500 SUBANG JAYA", "",
         "PAINT BRUSH        4.50", "CABLE TIES         8.00", "", "TOTAL             12.50"]


@pytest.fixture(scope="module")
def receipt(tmp_path_factory) -> Path:
    """A small till-receipt photo: narrow, tall, small print."""
    image = Image.new("L", (480, 900), 235)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=20)
    for i, line in enumerate(LINES):
        draw.text((24, 60 + i * 34), line, fill=25, font=font)
    path = tmp_path_factory.mktemp("rapid") / "receipt.jpg"
    image.save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def read(receipt):
    return ocr_page(PageJob(str(receipt), JPEG, 1, 300))


def _lines(page) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for w in page.words:
        out.setdefault(w.line, []).append(w.text)
    return out


def test_only_small_single_images_are_read_by_rapidocr_too():
    small, scan = Image.new("L", (480, 900)), Image.new("L", (2480, 3508))
    strip = Image.new("L", (930, 3550))  # a till receipt photographed whole: long, but few pixels
    assert uses_rapidocr(PageJob("x.jpg", JPEG, 1, 300), small)
    assert uses_rapidocr(PageJob("x.jpg", JPEG, 1, 300), strip)
    assert not uses_rapidocr(PageJob("x.jpg", JPEG, 1, 300, rapid_max_side=3000), strip)
    assert not uses_rapidocr(PageJob("x.jpg", JPEG, 1, 300), scan)  # 300 dpi A4: Tesseract alone
    assert not uses_rapidocr(PageJob("x.pdf", PDF, 1, 300), small)  # PDF pages: Tesseract alone
    assert not uses_rapidocr(PageJob("x.jpg", JPEG, 1, 300, engine="tesseract"), small)
    assert OcrConfig().engine == "auto"


def test_receipt_words_lines_and_boxes(read):
    page = read.page
    assert page.source == "ocr" and page.unit == "px"
    lines = [" ".join(ws) for ws in _lines(page).values()]
    assert any("SUNRISE" in l and "BHD" in l for l in lines)
    total_line = next(l for l in lines if "TOTAL" in l)
    assert "12.50" in total_line  # label and amount on one visual row share a line number
    for w in page.words:
        x0, y0, x1, y1 = w.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert 0.0 <= w.conf <= 1.0
    by_text = {w.text: w for w in page.words}
    assert by_text["12.50"].bbox[0] > by_text["TOTAL"].bbox[2]  # the amount is right of its label
    assert by_text["TOTAL"].bbox[1] > by_text["SUNRISE"].bbox[3]  # and below the shop's name


def test_searchable_page_has_the_image_and_its_words_as_text(read, tmp_path):
    with pikepdf.open(io.BytesIO(read.pdf)) as pdf:
        assert len(pdf.pages) == 1
        assert pdf.pages[0].get_images()  # the page image is there
    path = tmp_path / "page.pdf"
    path.write_bytes(read.pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "TOTAL" in text and "12.50" in text and "SUNRISE" in text


def _chars(text: str, gap_after: dict[int, float] | None = None) -> tuple[list, str]:
    """Character boxes 10 px wide, 1 px apart, plus ``gap_after[i]`` px after character i."""
    quads, x = [], 0.0
    for i, _ in enumerate(text):
        quads.append([[x, 10], [x + 10, 10], [x + 10, 30], [x, 30]])
        x += 11 + (gap_after or {}).get(i, 0)
    return quads, text


def test_words_are_cut_where_tesseract_saw_a_gap():
    # RapidOCR read "JALANKPB6" without its spaces; Tesseract read "JALAN" "KPB" "6" on that line.
    quads, text = _chars("JALANKPB6")
    gaps = [(54.0, 56.0), (87.0, 89.0)]  # between N|K (x 54/55) and B|6 (x 87/88)
    words = rapid._line_words(quads, text, 0.9, line=3, gaps=gaps)
    assert [w.text for w in words] == ["JALAN", "KPB", "6"]
    assert words[0].bbox[2] < words[1].bbox[0] and all(w.line == 3 for w in words)


def test_no_cut_where_tesseract_read_one_word_even_across_a_wide_gap():
    quads, text = _chars("TOTAL", gap_after={1: 12})  # a broken glyph, a wide blank
    assert [w.text for w in rapid._line_words(quads, text, 0.9, line=0, gaps=[])] == ["TOTAL"]


def test_without_tesseract_words_a_character_wide_gap_is_a_space():
    quads, text = _chars("NO12", gap_after={1: 9})
    assert [w.text for w in rapid._line_words(quads, text, 0.9, line=0, gaps=None)] == ["NO", "12"]
    quads, text = _chars("NO 12")  # its own space, no extra gap
    assert [w.text for w in rapid._line_words(quads, text, 0.9, line=0, gaps=None)] == ["NO", "12"]


def test_a_word_the_two_engines_read_differently_is_marked_unsure():
    from ecm.document import Word

    ours = [Word(text="TAMAN", bbox=(0, 10, 60, 30), conf=0.95, line=0),
            Word(text="BERKELEY", bbox=(70, 10, 160, 30), conf=0.95, line=0),
            Word(text="41150", bbox=(170, 10, 230, 30), conf=0.95, line=0)]
    theirs = [Word(text="TAHAN", bbox=(1, 11, 59, 29), conf=0.8, line=0),       # read differently
              Word(text="BERKE", bbox=(70, 11, 110, 29), conf=0.9, line=0),     # split in two,
              Word(text="LEY,", bbox=(112, 11, 160, 29), conf=0.9, line=0)]     # same letters
    checked = rapid.cross_checked(ours, theirs)
    assert checked[0].conf == pytest.approx(0.95 * rapid.DISAGREE)
    assert checked[1].conf == 0.95  # both read BERKELEY
    assert checked[2].conf == pytest.approx(0.95 * rapid.UNSEEN)  # Tesseract saw nothing there
    assert checked[0].conf < checked[2].conf < checked[1].conf
    assert [w.text for w in checked] == ["TAMAN", "BERKELEY", "41150"]  # the text is RapidOCR's

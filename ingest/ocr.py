"""Render one page and OCR it with Tesseract: words + boxes + confidences and a searchable PDF
page from the same Tesseract run (small single images are also read by RapidOCR: ``uses_rapidocr``).

Runs inside an executor worker process (see ``ecm.executor``), so everything here takes and
returns plain, picklable values. A page is OCR'd once; only when that reading is poor is
orientation detection (OSD) asked and the turned page read again, keeping the better reading.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator
from pathlib import Path

import pikepdf
import pytesseract
import zxingcpp
from pytesseract.pytesseract import run_tesseract
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError
from PIL import Image, ImageOps

from ecm.document import Page, Word
from ecm.errors import BadInput
from ingest.patchcode import find_patch_codes
from ingest.sniff import PDF
from ingest.split import PATCH_PREFIX, load_rules as load_split_rules

__all__ = ["PageJob", "PageResult", "ocr_page", "load_page_image", "detach", "uses_rapidocr"]

# Tesseract's own threading makes it 8-9x slower on these machines; parallelism is per process.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

MAX_LONG_SIDE = 4200  # px; larger images (600 dpi A4 scans) are scaled down: same text, 4x cheaper
POOR_READING = 0.45  # share of confident words below which the page is checked for orientation
# Till receipts (height >= 1.7 x width; A4 is 1.41, US Legal 1.65) are one column of short lines:
# Tesseract reads them better as one uniform block (--psm 6) than with automatic page segmentation
# (--psm 3), which drops right-hand amount columns. Measured on the 72 tall dev receipts: gold
# values found verbatim in the text 56.0% -> 63.4%, extraction recall 53.1% -> 59.0%, CPU
# 0.53 -> 0.67 s/page. On A4-shaped pages --psm 6 is worse (77.4% -> 75.5%), so they keep --psm 3.
RECEIPT_ASPECT = 1.7


@dataclass(frozen=True)
class PageJob:
    path: str
    media_type: str
    number: int  # 1-based page (PDF) or frame (TIFF) number
    dpi: int  # render resolution for PDFs
    language: str = "eng"
    timeout: int = 180
    max_image_pixels: int = 200_000_000
    # A detached job carries its page's bytes instead of a path (for workers on other
    # machines); ``index`` is then the page or frame to read inside ``data``.
    data: bytes | None = None
    index: int | None = None
    find_barcodes: bool = False  # read barcodes and patch codes too (separator sheets when splitting batches)
    # "auto": small single images (phone photos, till receipts) are also read by RapidOCR, whose
    # text replaces Tesseract's (see ``uses_rapidocr``); "tesseract": Tesseract alone.
    engine: str = "auto"
    # "auto" gives images of at most this many pixels, no longer than this on their long side, to RapidOCR too
    rapid_max_pixels: int = 4_000_000
    rapid_max_side: int = 4000


def detach(job: PageJob) -> PageJob:
    """The same job with the page's bytes inside it: a one-page PDF cut from the original
    (cheap, no rendering) or the image file itself."""
    if job.data is not None:
        return job
    if job.media_type == PDF:
        with pikepdf.open(job.path) as src, pikepdf.new() as one:
            one.pages.append(src.pages[job.number - 1])
            buffer = io.BytesIO()
            one.save(buffer)
        return replace(job, path="", data=buffer.getvalue(), index=1)
    with open(job.path, "rb") as fh:
        return replace(job, path="", data=fh.read(), index=job.number)


@contextmanager
def _local_file(job: PageJob) -> Iterator[tuple[str, int]]:
    """A path to read the page from and the page/frame number inside it."""
    if job.data is None:
        yield job.path, job.number
        return
    with tempfile.TemporaryDirectory(prefix="ecm-page-") as tmp:
        path = os.path.join(tmp, "page")
        with open(path, "wb") as fh:
            fh.write(job.data)
        yield path, job.index or 1


@dataclass(frozen=True)
class PageResult:
    page: Page
    pdf: bytes  # one-page searchable PDF (image + invisible text) from the same Tesseract run


def load_page_image(job: PageJob) -> tuple[Image.Image, int]:
    """The page as an upright-by-EXIF greyscale image and the resolution it is meant at."""
    with _local_file(job) as (path, index):
        return _load(job, path, index)


def _load(job: PageJob, path: str, index: int) -> tuple[Image.Image, int]:
    Image.MAX_IMAGE_PIXELS = job.max_image_pixels
    if job.media_type == PDF:
        try:
            images = convert_from_path(
                path, dpi=job.dpi, first_page=index, last_page=index,
                grayscale=True, timeout=job.timeout,
            )
        except PDFPopplerTimeoutError as err:
            raise BadInput(f"page {job.number}: rendering took longer than {job.timeout} s") from err
        except (PDFPageCountError, PDFSyntaxError) as err:
            raise BadInput(f"page {job.number} cannot be rendered: {err}".splitlines()[0]) from err
        if not images:
            raise BadInput(f"page {job.number} cannot be rendered (poppler returned no image)")
        return images[0], job.dpi
    try:
        with Image.open(path) as im:
            im.seek(index - 1)
            declared = int(round((im.info.get("dpi") or (0, 0))[0] or 0))
            # 72/96 dpi is a placeholder most cameras and scanners write; real scans are 150+.
            dpi = declared if 150 <= declared <= 1200 else 300
            image = ImageOps.exif_transpose(im)
            image = image.convert("L")  # also turns CMYK, palette and 1-bit scans into grey
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise BadInput("image is too large to decode safely (decompression-bomb limit)") from err
    except (OSError, EOFError, ValueError, SyntaxError) as err:
        raise BadInput(f"image cannot be decoded: {err}".splitlines()[0]) from err
    return image, dpi


def _scaled(image: Image.Image, dpi: int) -> tuple[Image.Image, int]:
    long_side = max(image.size)
    if long_side <= MAX_LONG_SIDE:
        return image, dpi
    factor = MAX_LONG_SIDE / long_side
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS), max(70, round(dpi * factor))


def _parse_tsv(tsv: str) -> list[Word]:
    words = []
    lines: dict[tuple[str, str, str], int] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        line = lines.setdefault(key, len(lines))
        x, y, w, h = (float(row[k]) for k in ("left", "top", "width", "height"))
        conf = max(0.0, min(1.0, float(row["conf"]) / 100))
        words.append(Word(text=text, bbox=(x, y, x + w, y + h), conf=conf, line=line))
    return words


def _tesseract(image: Image.Image, dpi: int, language: str, timeout: int) -> tuple[list[Word], bytes]:
    """One Tesseract run producing both TSV (words) and a one-page PDF."""
    psm = 6 if image.height >= RECEIPT_ASPECT * image.width else 3
    with tempfile.TemporaryDirectory(prefix="ecm-ocr-") as tmp:
        src = Path(tmp) / "page.jpg"
        image.save(src, format="JPEG", quality=80, dpi=(dpi, dpi))
        base = str(Path(tmp) / "out")
        try:
            run_tesseract(
                str(src), base, extension="pdf", lang=language, timeout=timeout,
                config=f"--psm {psm} --dpi {dpi} -c tessedit_create_tsv=1",
            )
        except RuntimeError as err:  # pytesseract raises RuntimeError on its timeout
            raise BadInput(f"OCR took longer than {timeout} s on one page") from err
        except pytesseract.TesseractError as err:
            raise BadInput(f"OCR failed: {err.message or err}".splitlines()[0]) from err
        tsv = Path(base + ".tsv").read_text(encoding="utf-8", errors="replace")
        return _parse_tsv(tsv), Path(base + ".pdf").read_bytes()


def _quality(words: list[Word]) -> float:
    """Share of word-like tokens read confidently: low when a page is sideways or upside down."""
    tokens = [w for w in words if sum(c.isalnum() for c in w.text) >= 2]
    if not tokens:
        return 0.0
    return sum(w.conf >= 0.7 for w in tokens) / len(tokens)


def _osd_rotation(image: Image.Image, timeout: int) -> int:
    """Degrees to turn the page clockwise so it reads upright, per Tesseract OSD (0 if unsure)."""
    small = image.copy()
    small.thumbnail((2000, 2000))
    try:
        osd = pytesseract.image_to_osd(
            small, config="--psm 0 -c min_characters_to_try=20",
            output_type=pytesseract.Output.DICT, timeout=timeout,
        )
    except (pytesseract.TesseractError, RuntimeError):
        return 0  # too little text to tell: keep the page as it is
    return int(osd.get("rotate", 0)) % 360


def _barcodes(image: Image.Image, dpi: int, words: list[Word]) -> list[str]:
    """Barcode values, and ``PATCH:<code>`` for Kodak patch codes. Patch codes are only looked
    for on pages with as few words as a separator sheet has (``sheet_max_words``), so pages
    of text cost nothing more."""
    values = [r.text for r in zxingcpp.read_barcodes(image) if r.text]
    words_read = sum(1 for w in words if any(c.isalnum() for c in w.text))
    if words_read <= load_split_rules().sheet_max_words:
        values += [PATCH_PREFIX + code for code in find_patch_codes(image, dpi)]
    return values


def uses_rapidocr(job: PageJob, image: Image.Image) -> bool:
    """Whether RapidOCR reads the page too: small single images, where Tesseract loses most
    (``ingest.rapid``); never PDF pages or 300 dpi page scans (as good there with Tesseract, 5x
    cheaper). Small is counted in pixels, not by the long side: a till receipt photographed as a
    strip (900 x 3500 px) has small text on a long image, and is where the second reading helps
    most (dev receipts longer than 2000 px, Tesseract alone -> both: receipts micro-F1 0.871 ->
    0.895 in CV, every date found; CPU about 5x on those pages)."""
    return (job.engine == "auto" and job.media_type != PDF and max(image.size) <= job.rapid_max_side
            and image.width * image.height <= job.rapid_max_pixels)


def _second_reading(image: Image.Image, dpi: int, words: list[Word], pdf: bytes) -> tuple[list[Word], bytes]:
    """RapidOCR's text with Tesseract's word boundaries, and a searchable page made from it;
    Tesseract's own reading when RapidOCR finds nothing."""
    from ingest import rapid  # onnxruntime loads only in the processes that need it

    better = rapid.read_words(image, words)
    if not better:
        return words, pdf
    return better, rapid.searchable_page(image, dpi, better)


def ocr_page(job: PageJob) -> PageResult:
    image, dpi = load_page_image(job)
    image, dpi = _scaled(image, dpi)
    words, pdf = _tesseract(image, dpi, job.language, job.timeout)
    rotation = 0
    if words and _quality(words) < POOR_READING:
        turn = _osd_rotation(image, job.timeout)
        if turn:
            turned = image.rotate(-turn, expand=True)  # PIL rotates counter-clockwise
            words2, pdf2 = _tesseract(turned, dpi, job.language, job.timeout)
            if _quality(words2) * len(words2) > _quality(words) * len(words):
                image, words, pdf, rotation = turned, words2, pdf2, turn
    if uses_rapidocr(job, image):
        words, pdf = _second_reading(image, dpi, words, pdf)
    barcodes = _barcodes(image, dpi, words) if job.find_barcodes else []
    page = Page(
        number=job.number, width=image.width, height=image.height, unit="px", dpi=dpi,
        source="ocr" if words else "none", rotation=rotation, words=words, barcodes=barcodes,
    )
    return PageResult(page=page, pdf=pdf)

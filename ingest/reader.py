"""Open one input: size and type checks, sha256, the text layer, and the list of pages to OCR.

Cheap work only (no rendering, no OCR): it runs in the main process, ahead of the executor.
Anything wrong with the input raises ``BadInput`` with the one-line quarantine reason.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path

import pikepdf
from PIL import Image

from ecm.config import LimitsConfig, OcrConfig
from ecm.document import Document, Page
from ecm.errors import BadInput
from ingest.ocr import PageJob
from ingest.sniff import PDF, sniff
from ingest.textlayer import read_text_layer

__all__ = ["sha256_file", "open_document", "pdf_form_fields"]


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _render_dpi(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> int:
    """The configured dpi, lowered so the rendered page stays under ``max_pixels``."""
    area_in2 = max(width_pt, 1.0) * max(height_pt, 1.0) / (72.0 * 72.0)
    return max(10, min(dpi, int(math.sqrt(max_pixels / area_in2))))


def _form_fields(pdf: pikepdf.Pdf) -> int:
    """How many fillable fields the PDF's interactive form (AcroForm) has."""
    try:
        form = pdf.Root.get("/AcroForm")
        fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
        return len(fields) if isinstance(fields, pikepdf.Array) else 0
    except (pikepdf.PdfError, AttributeError, TypeError, ValueError):
        return 0  # a damaged form dictionary: no form to speak of


def pdf_form_fields(path: Path) -> int:
    """How many fillable fields the PDF at ``path`` has (0 for no form or a file pikepdf cannot open)."""
    try:
        with pikepdf.open(path) as pdf:
            return _form_fields(pdf)
    except pikepdf.PdfError:
        return 0


def _pdf_page_sizes(path: Path, limits: LimitsConfig) -> tuple[list[tuple[float, float]], int]:
    """Page sizes (points, as displayed) and the number of fillable form fields."""
    try:
        with pikepdf.open(path) as pdf:
            count = len(pdf.pages)
            if count == 0:
                raise BadInput("PDF has no pages")
            if count > limits.max_pages:
                raise BadInput(f"too large: {count} pages (limit {limits.max_pages}); split the file or raise [limits] max_pages")
            sizes = []
            for page in pdf.pages:
                box = page.mediabox
                w, h = abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))
                if int(page.obj.get("/Rotate", 0)) % 180:
                    w, h = h, w
                if max(w, h) > limits.max_page_inches * 72:
                    raise BadInput(
                        f"page {len(sizes) + 1} is {w / 72:.0f} x {h / 72:.0f} inches, larger than any paper "
                        f"(limit {limits.max_page_inches} in, [limits] max_page_inches)"
                    )
                sizes.append((w, h))
            return sizes, _form_fields(pdf)
    except pikepdf.PasswordError as err:
        raise BadInput("encrypted: the PDF is password-protected; remove the password and ingest it again") from err
    except pikepdf.PdfError as err:
        detail = str(err).splitlines()[0].replace(str(path), "").strip(" :")
        raise BadInput(f"corrupt PDF that cannot be repaired ({detail[:160]})") from err


def _image_frames(path: Path, limits: LimitsConfig) -> int:
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        with Image.open(path) as im:
            w, h = im.size
            frames = getattr(im, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise BadInput("image too large to decode safely (decompression bomb: its header claims more pixels than [limits] max_image_pixels)") from err
    except (OSError, EOFError, ValueError, SyntaxError) as err:
        raise BadInput(f"image cannot be decoded: {str(err).splitlines()[0][:160]}") from err
    if w * h > limits.max_image_pixels:
        raise BadInput(f"image too large: {w} x {h} pixels (limit {limits.max_image_pixels:,})")
    if min(w, h) < limits.min_image_side:
        raise BadInput(f"not a document page: image is only {w} x {h} pixels")
    if frames > limits.max_pages:
        raise BadInput(f"too large: {frames} pages (limit {limits.max_pages})")
    return frames


def open_document(path: Path, limits: LimitsConfig, ocr: OcrConfig, source: str | None = None,
                  barcodes: bool = False) -> tuple[Document, list[PageJob]]:
    """The Document as far as cheap reading goes, and the pages still to OCR (reading
    barcodes too when ``barcodes``).

    Never raises for bad input: a bad file comes back quarantined (with no jobs).
    """
    source = source or str(path)
    try:
        sha256, size = sha256_file(path)
    except OSError as err:
        raise BadInput(f"cannot read the file: {err.strerror or err}") from err
    doc = Document(source=source, sha256=sha256, size=size)
    try:
        if size == 0:
            raise BadInput("empty file (0 bytes)")
        if size > limits.max_file_mb * 1024 * 1024:
            raise BadInput(f"too large: {size / 2**20:.0f} MB (limit {limits.max_file_mb} MB, [limits] max_file_mb)")
        with path.open("rb") as fh:
            media_type = sniff(fh.read(1024))
        doc = doc.model_copy(update={"media_type": media_type})
        form_fields = 0
        if media_type == PDF:
            pages, jobs, form_fields = _plan_pdf(path, limits, ocr)
        else:
            pages, jobs = _plan_image(path, media_type, limits, ocr)
    except BadInput as err:
        return doc.quarantine(str(err)), []
    if barcodes:
        jobs = [replace(job, find_barcodes=True) for job in jobs]
    return doc.model_copy(update={"pages": pages, "form_fields": form_fields}), jobs


def _plan_pdf(path: Path, limits: LimitsConfig, ocr: OcrConfig) -> tuple[list[Page], list[PageJob], int]:
    sizes, form_fields = _pdf_page_sizes(path, limits)
    layer = {p.number: p for p in read_text_layer(path, last_page=len(sizes))}
    pages, jobs = [], []
    for number, (w, h) in enumerate(sizes, start=1):
        text_page = layer.get(number)
        chars = sum(len(word.text) for word in text_page.words) if text_page else 0
        if text_page is not None and chars >= ocr.min_text_chars:
            pages.append(text_page)
            continue
        # Placeholder until OCR fills it in (kept so page order and count are known up front).
        pages.append(Page(number=number, width=w, height=h, unit="pt", source="none"))
        dpi = _render_dpi(w, h, ocr.dpi, limits.max_page_pixels)
        jobs.append(_job(path, PDF, number, dpi, limits, ocr))
    return pages, jobs, form_fields


def _job(path: Path, media_type: str, number: int, dpi: int, limits: LimitsConfig, ocr: OcrConfig) -> PageJob:
    return PageJob(str(path), media_type, number, dpi, ocr.language, ocr.timeout, limits.max_image_pixels,
                   engine=ocr.engine, rapid_max_side=ocr.rapid_max_side, rapid_max_pixels=ocr.rapid_max_pixels)


def _plan_image(path: Path, media_type: str, limits: LimitsConfig, ocr: OcrConfig) -> tuple[list[Page], list[PageJob]]:
    frames = _image_frames(path, limits)
    pages = [Page(number=n, width=0, height=0, unit="px", source="none") for n in range(1, frames + 1)]
    jobs = [_job(path, media_type, n, ocr.dpi, limits, ocr) for n in range(1, frames + 1)]
    return pages, jobs

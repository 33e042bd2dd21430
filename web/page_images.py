"""Page images for the document view, and where field boxes sit on them.

A page is drawn from the searchable PDF when there is one (its pages are exactly the pages the
words were read from, turned upright), else from the original: a PDF through pdfium, an image
through Pillow (turned the way OCR turned it). Field boxes are placed in percent of the page's
width and height, so they line up at any image size whatever the box unit ("pt" or "px").
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from PIL import Image, ImageOps

from ecm.document import Page
from ecm.errors import NotFound, StoreError

__all__ = ["PAGE_IMAGE_DPI", "OverlayBox", "overlay_box", "render_pdf_page", "render_image_page"]

PAGE_IMAGE_DPI = 100  # enough to read on screen, small enough to send quickly
MAX_SIDE_PX = 2000  # huge pages (drawings, posters) are scaled down to this

# pdfium is not thread-safe and FastAPI runs plain routes on a thread pool: one render at a time.
_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class OverlayBox:
    """A box in percent of the page (0..100), origin top-left."""

    left: float
    top: float
    width: float
    height: float


def overlay_box(bbox: tuple[float, float, float, float] | None, page: Page) -> OverlayBox | None:
    """Where ``bbox`` sits on ``page``, in percent; None when it cannot be placed."""
    if bbox is None or page.width <= 0 or page.height <= 0:
        return None
    x0, y0, x1, y1 = bbox
    x0, x1 = sorted((max(0.0, min(x0, page.width)), max(0.0, min(x1, page.width))))
    y0, y1 = sorted((max(0.0, min(y0, page.height)), max(0.0, min(y1, page.height))))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    return OverlayBox(
        left=round(100 * x0 / page.width, 3),
        top=round(100 * y0 / page.height, 3),
        width=round(100 * (x1 - x0) / page.width, 3),
        height=round(100 * (y1 - y0) / page.height, 3),
    )


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _fit(image: Image.Image) -> Image.Image:
    if max(image.size) > MAX_SIDE_PX:
        image = image.copy()
        image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.LANCZOS)
    return image


def render_pdf_page(pdf: bytes, number: int) -> bytes:
    """Page ``number`` (1-based) of a PDF as PNG bytes at about PAGE_IMAGE_DPI."""
    import pypdfium2 as pdfium  # imported here: only page images need it

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as err:
            raise StoreError(f"the stored PDF cannot be opened: {err}") from err
        try:
            if not 1 <= number <= len(document):
                raise NotFound(f"the document has no page {number}")
            page = document[number - 1]
            width_pt, height_pt = page.get_size()
            scale = PAGE_IMAGE_DPI / 72
            longest = max(width_pt, height_pt) * scale
            if longest > MAX_SIDE_PX:
                scale *= MAX_SIDE_PX / longest
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
        finally:
            document.close()
    return _png(image)


def render_image_page(data: bytes, number: int, page: Page | None) -> bytes:
    """Frame ``number`` of an image original, upright as OCR saw it, as PNG at screen size."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            frames = getattr(im, "n_frames", 1)
            if not 1 <= number <= frames:
                raise NotFound(f"the document has no page {number}")
            im.seek(number - 1)
            image = ImageOps.exif_transpose(im)
            image = image.convert("RGB" if image.mode in ("RGB", "RGBA", "CMYK", "P") else "L")
    except (OSError, EOFError, ValueError, Image.DecompressionBombError) as err:
        raise StoreError(f"the stored image cannot be decoded: {err}".splitlines()[0]) from err
    if page is not None and page.rotation:
        image = image.rotate(-page.rotation, expand=True)  # PIL turns counter-clockwise
    dpi = page.dpi if page is not None and page.dpi else 300
    if dpi > PAGE_IMAGE_DPI:
        factor = PAGE_IMAGE_DPI / dpi
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                             Image.Resampling.LANCZOS)
    return _png(_fit(image))

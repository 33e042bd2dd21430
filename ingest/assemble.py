"""Put OCR'd pages back into the Document and build its searchable PDF."""

from __future__ import annotations

import io
from contextlib import ExitStack
from pathlib import Path

import pikepdf

from ecm.document import Document
from ingest.ocr import PageResult
from ingest.sniff import PDF

__all__ = ["assemble"]


def assemble(doc: Document, original: Path, results: list[PageResult]) -> Document:
    """``doc`` with each OCR'd page in place and ``searchable_pdf`` set when anything was OCR'd.

    Pages read from a text layer are kept from the original PDF as they are; OCR'd pages
    come from Tesseract's PDF output (page image + invisible text).
    """
    if not results:
        return doc
    by_number = {r.page.number: r for r in results}
    pages = [by_number[p.number].page if p.number in by_number else p for p in doc.pages]
    buffer = io.BytesIO()
    # pikepdf copies pages lazily: every source must stay open until the output is saved.
    with ExitStack() as open_pdfs, pikepdf.new() as out:
        source_pdf = open_pdfs.enter_context(pikepdf.open(original)) if doc.media_type == PDF else None
        for page in pages:
            result = by_number.get(page.number)
            if result is not None:
                ocr_pdf = open_pdfs.enter_context(pikepdf.open(io.BytesIO(result.pdf)))
                out.pages.append(ocr_pdf.pages[0])
            elif source_pdf is not None:
                out.pages.append(source_pdf.pages[page.number - 1])
        out.save(buffer)
    return doc.model_copy(update={"pages": pages, "searchable_pdf": buffer.getvalue()})

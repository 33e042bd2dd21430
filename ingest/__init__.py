"""Accepting inputs: type sniffing, sha256, text layers, page rendering and OCR."""

from pathlib import Path

from ecm.config import LimitsConfig, OcrConfig
from ecm.document import Document
from ecm.errors import BadInput
from ingest.assemble import assemble
from ingest.ocr import PageJob, PageResult, ocr_page
from ingest.reader import open_document, sha256_file
from ingest.sniff import sniff
from ingest.split import load_rules as load_split_rules
from ingest.split import split_document

__all__ = ["open_document", "ocr_page", "assemble", "read_document", "PageJob", "PageResult", "sha256_file", "sniff",
           "split_document", "load_split_rules"]


def read_document(path: Path | str, limits: LimitsConfig | None = None, ocr: OcrConfig | None = None) -> Document:
    """Read one file in this process, OCR included: for scripts and tests. The pipeline
    spreads the same three steps over the executor instead."""
    path = Path(path)
    doc, jobs = open_document(path, limits or LimitsConfig(), ocr or OcrConfig())
    try:
        results = [ocr_page(job) for job in jobs]
    except BadInput as err:
        return doc.quarantine(str(err))
    return assemble(doc, path, results)

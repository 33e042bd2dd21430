"""Reading documents for the web: id checks, the record, and the file each page is drawn from."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from ecm.document import Document
from ecm.errors import NotFound
from store import Archive

__all__ = ["DOC_ID", "is_doc_id", "load_document", "PageSource", "PageSourceCache"]

# Ids are the first 16 hex digits of the original's sha256 (store.doc_id_for). Checking the
# shape first keeps anything else (paths, ``..``, huge strings) away from the store.
DOC_ID = re.compile(r"^[0-9a-f]{16}$")
PDF = "application/pdf"


def is_doc_id(value: object) -> bool:
    return isinstance(value, str) and DOC_ID.fullmatch(value) is not None


def load_document(archive: Archive, doc_id: str) -> Document:
    if not is_doc_id(doc_id):
        raise NotFound("That is not a document id (ids are 16 hexadecimal digits).")
    try:
        return archive.get(doc_id)
    except NotFound:
        raise NotFound(f"There is no document with id {doc_id}.") from None


@dataclass(frozen=True)
class PageSource:
    """The bytes a document's pages are drawn from."""

    kind: Literal["pdf", "image"]
    data: bytes


class PageSourceCache:
    """The last few documents' page sources, so drawing a document's pages (one request per
    page) reads its PDF or image from the store once, not once per page."""

    def __init__(self, size: int = 4):
        self.size = size
        self._items: OrderedDict[tuple[str, int], PageSource] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, archive: Archive, doc: Document) -> PageSource:
        key = (doc.id or "", doc.version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        source = self._read(archive, doc)
        with self._lock:
            self._items[key] = source
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return source

    @staticmethod
    def _read(archive: Archive, doc: Document) -> PageSource:
        # The searchable PDF's pages are the pages as read (OCR'd ones turned upright), so it
        # comes first; without one, the original is what was read.
        searchable = archive.searchable_pdf(doc.id or "")
        if searchable:
            return PageSource("pdf", searchable)
        original = archive.get_original(doc.sha256)
        return PageSource("pdf" if doc.media_type == PDF else "image", original)

"""The system of record, on any BlobStore.

Layout (keys):
    originals/<sha[:2]>/<sha[2:4]>/<sha256>    original bytes, content-addressed, never modified
    docs/<id>/pages.json                        per-page words with boxes and confidences
    docs/<id>/searchable.pdf                    searchable PDF (absent when the original already is one)
    docs/<id>/record/<version:06d>.json         the document record, one file per version
    quarantine/<sha256>.json                    why an input was refused (its bytes, if readable
                                                and within limits, are kept in originals/)
    audit/<YYYY-MM-DD>/<time>-<uuid>.json       append-only audit events
Every read of an original is checked against its sha256.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from ecm.document import Document, Page, utcnow
from ecm.errors import IntegrityError, NotFound
from store.blobs import BlobStore

__all__ = ["Archive", "AuditEvent", "doc_id_for"]

_PAGES = TypeAdapter(list[Page])


def doc_id_for(sha256: str) -> str:
    """A document's id: the first 16 hex digits of its original's sha256 (stable, content-derived)."""
    return sha256[:16]


class AuditEvent(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    actor: str  # "system", "cli:<user>", "user:<name>"
    action: str  # ingest, duplicate, quarantine, view, edit, reindex, ...
    doc_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Archive:
    def __init__(self, blobs: BlobStore):
        self.blobs = blobs

    # originals -------------------------------------------------------------
    @staticmethod
    def original_key(sha256: str) -> str:
        return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put_original(self, sha256: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError("original bytes do not match their sha256; the file changed while being read")
        key = self.original_key(sha256)
        if not self.blobs.exists(key):
            self.blobs.put(key, data)

    def get_original(self, sha256: str) -> bytes:
        data = self.blobs.get(self.original_key(sha256))
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"stored original {sha256} is corrupted (checksum mismatch); restore it from backup")
        return data

    # records ---------------------------------------------------------------
    def exists(self, doc_id: str) -> bool:
        return next(self.blobs.keys(f"docs/{doc_id}/record/"), None) is not None

    def versions(self, doc_id: str) -> list[int]:
        return [int(k.rsplit("/", 1)[1].split(".")[0]) for k in self.blobs.keys(f"docs/{doc_id}/record/")]

    def save(self, doc: Document, actor: str, action: str) -> Document:
        """Store ``doc`` as the next version of its record (pages and searchable PDF with it)."""
        doc_id = doc.id or doc_id_for(doc.sha256)
        existing = self.versions(doc_id)
        version = (existing[-1] if existing else 0) + 1
        doc = doc.model_copy(update={"id": doc_id, "version": version, "updated_at": utcnow()})
        if doc.pages:
            self.blobs.put(f"docs/{doc_id}/pages.json", _PAGES.dump_json(doc.pages))
        if doc.searchable_pdf:
            self.blobs.put(f"docs/{doc_id}/searchable.pdf", doc.searchable_pdf)
        record = doc.model_dump(mode="json", exclude={"pages"})
        record["page_count"] = len(doc.pages)
        self.blobs.put(f"docs/{doc_id}/record/{version:06d}.json", json.dumps(record, ensure_ascii=False).encode())
        self.audit(AuditEvent(actor=actor, action=action, doc_id=doc_id, detail={"version": version}))
        return doc

    def get(self, doc_id: str, version: int | None = None) -> Document:
        versions = self.versions(doc_id)
        if not versions:
            raise NotFound(f"no document with id {doc_id!r}; `ecm search` lists ids")
        version = version or versions[-1]
        if version not in versions:
            raise NotFound(f"document {doc_id} has no version {version} (it has 1..{versions[-1]})")
        record = json.loads(self.blobs.get(f"docs/{doc_id}/record/{version:06d}.json"))
        record.pop("page_count", None)
        pages_key = f"docs/{doc_id}/pages.json"
        record["pages"] = json.loads(self.blobs.get(pages_key)) if self.blobs.exists(pages_key) else []
        return Document.model_validate(record)

    def searchable_pdf(self, doc_id: str) -> bytes | None:
        key = f"docs/{doc_id}/searchable.pdf"
        return self.blobs.get(key) if self.blobs.exists(key) else None

    def ids(self) -> Iterator[str]:
        seen = None
        for key in self.blobs.keys("docs/"):
            doc_id = key.split("/")[1]
            if doc_id != seen:
                seen = doc_id
                yield doc_id

    # quarantine ------------------------------------------------------------
    def quarantine(self, doc: Document, data: bytes | None, actor: str) -> None:
        """Keep a refused input and its reason, so nothing handed in is lost."""
        if data is not None and hashlib.sha256(data).hexdigest() == doc.sha256:
            self.put_original(doc.sha256, data)
        entry = {"source": doc.source, "sha256": doc.sha256, "size": doc.size, "reason": doc.reason,
                 "at": utcnow().isoformat(), "kept_bytes": data is not None}
        self.blobs.put(f"quarantine/{doc.sha256}.json", json.dumps(entry, ensure_ascii=False).encode())
        self.audit_action(actor, "quarantine", None, source=doc.source, sha256=doc.sha256, reason=doc.reason)

    def quarantined(self) -> Iterator[dict]:
        for key in self.blobs.keys("quarantine/"):
            yield json.loads(self.blobs.get(key))

    # audit -----------------------------------------------------------------
    def audit_action(self, actor: str, action: str, doc_id: str | None, **detail: Any) -> None:
        self.audit(AuditEvent(actor=actor, action=action, doc_id=doc_id, detail=detail))

    def audit(self, event: AuditEvent) -> None:
        stamp = event.at.strftime("%Y%m%dT%H%M%S%fZ")
        key = f"audit/{event.at.date().isoformat()}/{stamp}-{uuid.uuid4().hex[:12]}.json"
        self.blobs.put(key, event.model_dump_json().encode())

    def events(self, doc_id: str | None = None, since: date | None = None) -> Iterator[AuditEvent]:
        for key in self.blobs.keys("audit/"):
            day = key.split("/")[1]
            if since and day < since.isoformat():
                continue
            event = AuditEvent.model_validate_json(self.blobs.get(key))
            if doc_id is None or event.doc_id == doc_id:
                yield event

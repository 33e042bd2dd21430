"""The system of record, on any BlobStore.

Layout (keys):
    originals/<sha[:2]>/<sha[2:4]>/<sha256>    original bytes, content-addressed, never modified
    docs/<id>/pages.json                        per-page words with boxes and confidences
    docs/<id>/searchable.pdf                    searchable PDF (absent when the original already is one)
    docs/<id>/record/<version:06d>.json         the document record, one file per version
    holds/<id>.json                             legal hold and retention of a document
    quarantine/<sha256>.json                    why an input was refused (its bytes, if readable
                                                and within limits, are kept in originals/)
    audit/<YYYY-MM-DD>/<time>-<uuid>.json       append-only audit events
Every read of an original is checked against its sha256; each record version lists the
sha256 of the pages and searchable PDF it was saved with, so ``verify`` can prove nothing changed.

Legal hold and retention are enforced here for every backend (a held or retained document
cannot be deleted through the archive) and, where the store can (S3 with object lock), by the
storage server too, so that nobody can delete it around ecm either.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from ecm.document import Document, Page, utcnow
from ecm.errors import IntegrityError, NotFound, StoreError
from store.blobs import BlobStore, Deletable, RetentionControl

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

    def has_original(self, sha256: str) -> bool:
        return self.blobs.exists(self.original_key(sha256))

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
        checksums = self._checksums(doc_id, existing[-1]) if existing else {}
        if doc.pages:
            pages = _PAGES.dump_json(doc.pages)
            self.blobs.put(f"docs/{doc_id}/pages.json", pages)
            checksums["pages.json"] = hashlib.sha256(pages).hexdigest()
        if doc.searchable_pdf:
            self.blobs.put(f"docs/{doc_id}/searchable.pdf", doc.searchable_pdf)
            checksums["searchable.pdf"] = hashlib.sha256(doc.searchable_pdf).hexdigest()
        record = doc.model_dump(mode="json", exclude={"pages"})
        record["page_count"] = len(doc.pages)
        record["checksums"] = checksums
        self.blobs.put(f"docs/{doc_id}/record/{version:06d}.json", json.dumps(record, ensure_ascii=False).encode())
        self.audit(AuditEvent(actor=actor, action=action, doc_id=doc_id, detail={"version": version}))
        self._relock(doc_id)  # a new version of a held document is held too
        return doc

    def get(self, doc_id: str, version: int | None = None) -> Document:
        versions = self.versions(doc_id)
        if not versions:
            raise NotFound(f"no document with id {doc_id!r}; `ecm search` lists ids")
        version = version or versions[-1]
        if version not in versions:
            raise NotFound(f"document {doc_id} has no version {version} (it has 1..{versions[-1]})")
        record = self._record(doc_id, version)
        record.pop("page_count", None)
        record.pop("checksums", None)
        pages_key = f"docs/{doc_id}/pages.json"
        record["pages"] = json.loads(self.blobs.get(pages_key)) if self.blobs.exists(pages_key) else []
        return Document.model_validate(record)

    def _record(self, doc_id: str, version: int) -> dict:
        return json.loads(self.blobs.get(f"docs/{doc_id}/record/{version:06d}.json"))

    def _checksums(self, doc_id: str, version: int) -> dict[str, str]:
        return dict(self._record(doc_id, version).get("checksums", {}))

    def verify(self, doc_id: str) -> list[str]:
        """Fixity check of one document: every record version readable, the original and the
        latest pages / searchable PDF matching their sha256. Returns the problems found."""
        problems = []
        versions = self.versions(doc_id)
        try:
            for version in versions:
                self._record(doc_id, version)
            doc = self.get(doc_id)
            self.get_original(doc.sha256)
        except (StoreError, NotFound, ValueError) as err:
            return [f"{doc_id}: {err}"]
        for name, expected in self._checksums(doc_id, versions[-1]).items():
            try:
                actual = hashlib.sha256(self.blobs.get(f"docs/{doc_id}/{name}")).hexdigest()
            except (StoreError, NotFound) as err:
                problems.append(f"{doc_id}/{name}: {err}")
                continue
            if actual != expected:
                problems.append(f"{doc_id}/{name}: checksum mismatch (stored {expected[:12]}..., now {actual[:12]}...)")
        return problems

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

    # legal hold, retention, deletion ---------------------------------------
    def holds(self, doc_id: str) -> dict:
        key = f"holds/{doc_id}.json"
        return json.loads(self.blobs.get(key)) if self.blobs.exists(key) else {"hold": False, "retain_until": None}

    def hold(self, doc_id: str, on: bool, actor: str) -> None:
        """Put a document under legal hold (or release it): nobody can delete it while held."""
        state = self.holds(doc_id) | {"hold": on}
        self._apply_lock(doc_id, lambda control, key: control.set_legal_hold(key, on))
        self.blobs.put(f"holds/{doc_id}.json", json.dumps(state).encode())
        self.audit_action(actor, "hold" if on else "release", doc_id)

    def retain(self, doc_id: str, until: datetime, actor: str) -> None:
        """Keep a document from deletion until ``until``; retention can be extended, never shortened."""
        state = self.holds(doc_id)
        current = datetime.fromisoformat(state["retain_until"]) if state["retain_until"] else None
        if current and until < current:
            raise StoreError(f"{doc_id} is retained until {current:%Y-%m-%d}; retention can only be extended")
        self._apply_lock(doc_id, lambda control, key: control.set_retention(key, until))
        self.blobs.put(f"holds/{doc_id}.json", json.dumps(state | {"retain_until": until.isoformat()}).encode())
        self.audit_action(actor, "retain", doc_id, until=until.isoformat())

    def delete(self, doc_id: str, actor: str) -> None:
        """Delete a document's record, pages and searchable PDF (the original stays if another
        record shares it). Refused while the document is held or retained."""
        state = self.holds(doc_id)
        if state["hold"]:
            raise StoreError(f"{doc_id} is under legal hold; release it first (ecm hold {doc_id} --release)")
        until = datetime.fromisoformat(state["retain_until"]) if state["retain_until"] else None
        if until and until > datetime.now(timezone.utc):
            raise StoreError(f"{doc_id} is retained until {until:%Y-%m-%d}; it cannot be deleted before then")
        if not isinstance(self.blobs, Deletable):
            raise StoreError(f"the {type(self.blobs).__name__} cannot delete objects")
        doc = self.get(doc_id)
        for key in list(self.blobs.keys(f"docs/{doc_id}/")):
            self.blobs.delete(key)
        self.blobs.delete(self.original_key(doc.sha256))
        self.audit_action(actor, "delete", doc_id, sha256=doc.sha256, source=doc.source)

    def _relock(self, doc_id: str) -> None:
        state = self.holds(doc_id)
        if state["hold"]:
            self._apply_lock(doc_id, lambda control, key: control.set_legal_hold(key, True))
        if state["retain_until"]:
            until = datetime.fromisoformat(state["retain_until"])
            self._apply_lock(doc_id, lambda control, key: control.set_retention(key, until))

    def _apply_lock(self, doc_id: str, lock) -> None:
        """Also lock every stored part of the document in the storage server, where it can."""
        doc = self.get(doc_id)  # NotFound for an unknown id
        if isinstance(self.blobs, RetentionControl) and getattr(self.blobs, "object_lock", True):
            for key in [self.original_key(doc.sha256), *self.blobs.keys(f"docs/{doc_id}/")]:
                lock(self.blobs, key)

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

"""The system of record: originals, page words, searchable PDFs, versioned records, audit events."""

from store.archive import Archive, AuditEvent, doc_id_for
from store.blobs import BlobStore, FsBlobStore
from store.s3 import S3BlobStore

__all__ = ["Archive", "AuditEvent", "BlobStore", "FsBlobStore", "S3BlobStore", "doc_id_for"]

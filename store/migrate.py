"""Copy one blob store into another and prove the copy: ``ecm migrate --to s3``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from ecm.errors import EcmError
from store.blobs import BlobStore

__all__ = ["CopyResult", "copy_store"]


@dataclass(frozen=True)
class CopyResult:
    key: str
    ok: bool
    problem: str = ""


def copy_store(source: BlobStore, target: BlobStore) -> Iterator[CopyResult]:
    """Copy every object; each is read back from the target and its sha256 compared with the
    source's before it counts as copied. Objects already in the target with the same bytes are
    skipped, so an interrupted migration can simply be run again."""
    for key in source.keys(""):
        try:
            data = source.get(key)
            digest = hashlib.sha256(data).hexdigest()
            if not (target.exists(key) and hashlib.sha256(target.get(key)).hexdigest() == digest):
                target.put(key, data)
            copied = hashlib.sha256(target.get(key)).hexdigest()
        except EcmError as err:
            yield CopyResult(key, False, str(err))
            continue
        yield CopyResult(key, copied == digest, "" if copied == digest else "checksum differs after copy")

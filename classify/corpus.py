"""Reading a training folder in the layout of the dev data set: ``manifest.jsonl`` + files.

Texts come from a page cache (``<cache>/pages/<id>.json``, written by ``bench/build_cache.py``)
so training does not re-OCR; a document missing from the cache, or cached from a file with other
bytes (another folder reusing an id, a replaced file), is read with ``ingest.read_document`` and
cached anew.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ecm.document import Document, Page

__all__ = ["ManifestEntry", "read_manifest", "load_pages", "cached_document", "cache_is_current"]


@dataclass(frozen=True)
class ManifestEntry:
    id: str
    path: str
    doc_type: str
    group: str  # the original's id: a scan derivative and its original share a group
    fields: dict
    raw: dict


def read_manifest(folder: Path) -> list[ManifestEntry]:
    entries = []
    for line in (Path(folder) / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        entries.append(
            ManifestEntry(
                id=raw["id"], path=raw["path"], doc_type=raw.get("doc_type", "other"),
                group=raw.get("derived_from") or raw["id"], fields=raw.get("fields") or {}, raw=raw,
            )
        )
    return entries


def cache_is_current(cached: Path, source: Path) -> dict | None:
    """The cache entry at ``cached`` if it was read from ``source`` as it is now, else None."""
    from ingest.reader import sha256_file

    if not cached.exists():
        return None
    data = json.loads(cached.read_text(encoding="utf-8"))
    if "form_fields" not in data:
        return None  # written before the cache recorded PDF form fields: read it again
    return data if data.get("file_sha256") == sha256_file(source)[0] else None


def _read(folder: Path, entry: ManifestEntry, cache_dir: Path | None) -> dict:
    source = Path(folder) / entry.path
    cached = Path(cache_dir) / "pages" / f"{entry.id}.json" if cache_dir else None
    data = cache_is_current(cached, source) if cached is not None else None
    if data is not None:
        return data
    from ingest import read_document, sha256_file  # the real reader; only needed for uncached documents

    doc = read_document(source)
    data = {"id": entry.id, "source": entry.path, "file_sha256": sha256_file(source)[0], "status": doc.status,
            "reason": doc.reason, "form_fields": doc.form_fields, "pages": [p.model_dump(mode="json") for p in doc.pages]}
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(data))
    return data


def load_pages(folder: Path, entry: ManifestEntry, cache_dir: Path | None) -> list[Page]:
    """The pages of one manifest document, from the cache when present."""
    return [Page.model_validate(p) for p in _read(folder, entry, cache_dir)["pages"]]


def cached_document(folder: Path, entry: ManifestEntry, cache_dir: Path | None) -> Document:
    """A Document as ingest would hand it to classify (no sha256 needed for bench work)."""
    data = _read(folder, entry, cache_dir)
    return Document(id=entry.id, source=entry.path, sha256=entry.id,
                    status=data.get("status", "ok"), reason=data.get("reason"),
                    pages=[Page.model_validate(p) for p in data["pages"]], form_fields=data.get("form_fields", 0))

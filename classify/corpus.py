"""Reading a training folder in the layout of the dev data set: ``manifest.jsonl`` + files.

Texts come from a page cache (``<cache>/pages/<id>.json``, written by ``bench/build_cache.py``)
so training does not re-OCR; a document missing from the cache is read with
``ingest.read_document`` and added to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ecm.document import Document, Page

__all__ = ["ManifestEntry", "read_manifest", "load_pages", "cached_document"]


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


def _read(folder: Path, entry: ManifestEntry, cache_dir: Path | None) -> dict:
    cached = Path(cache_dir) / "pages" / f"{entry.id}.json" if cache_dir else None
    if cached is not None and cached.exists():
        return json.loads(cached.read_text(encoding="utf-8"))
    from ingest import read_document  # the real reader; only needed for uncached documents

    doc = read_document(Path(folder) / entry.path)
    data = {"id": entry.id, "source": entry.path, "status": doc.status, "reason": doc.reason,
            "pages": [p.model_dump(mode="json") for p in doc.pages]}
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
                    pages=[Page.model_validate(p) for p in data["pages"]])

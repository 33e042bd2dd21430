"""Upload batches of the mailroom and what became of each file, in SQLite.

A batch is one upload (one or many files). Each file is an item with a status:
``pending`` -> ``processing`` -> ``stored`` | ``duplicate`` | ``quarantined`` | ``failed``,
and ``deleted`` when a quarantined file was removed from the inbox. The item keeps what the
mailroom needs to see: document id, type, confidence, key fields, the reason.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ecm.db import connect, create_tables

__all__ = ["BatchStore", "Batch", "Item", "BATCH_ID", "FINAL", "new_batch_id"]

BATCH_ID = re.compile(r"^b-\d{8}-\d{6}-[0-9a-f]{8}$")
FINAL = frozenset({"stored", "duplicate", "quarantined", "failed", "deleted"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    split INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batch_items (
    batch_id TEXT NOT NULL REFERENCES batches(id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,          -- the file name as uploaded (shown, never used as a path)
    path TEXT NOT NULL,          -- where it is kept in the inbox
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    doc_id TEXT,
    sha256 TEXT,
    doc_type TEXT,
    confidence REAL,
    fields TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (batch_id, seq)
);
CREATE INDEX IF NOT EXISTS batch_items_status ON batch_items(status);
"""


def new_batch_id() -> str:
    return f"b-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


@dataclass
class Item:
    batch_id: str
    seq: int
    name: str
    path: str
    size: int
    status: str
    doc_id: str | None = None
    sha256: str | None = None
    doc_type: str | None = None
    confidence: float | None = None
    fields: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    updated_at: float = 0.0

    def public(self) -> dict[str, Any]:
        """What the batch page's JSON shows (never the inbox path)."""
        data = asdict(self)
        data.pop("path")
        return data


@dataclass
class Batch:
    id: str
    created_by: str
    created_at: float
    items: list[Item]
    split: bool = False  # batch scans are split into documents

    @property
    def counts(self) -> dict[str, int]:
        counts = {s: 0 for s in ("pending", "processing", "stored", "duplicate", "quarantined", "failed", "deleted")}
        for item in self.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts

    @property
    def finished(self) -> bool:
        return all(item.status in FINAL for item in self.items)

    @property
    def done(self) -> int:
        return sum(item.status in FINAL for item in self.items)


def _item(row) -> Item:
    data = dict(row)
    data["fields"] = json.loads(data["fields"] or "{}")
    return Item(**data)


class BatchStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        create_tables(self.path, _SCHEMA)

    def create(self, batch_id: str, created_by: str, files: list[tuple[str, str, int]], split: bool = False) -> Batch:
        """A new batch of ``(name, path, size)`` files, every one pending."""
        now = time.time()
        with connect(self.path) as db:
            db.execute("INSERT INTO batches (id, created_by, created_at, split) VALUES (?, ?, ?, ?)",
                       (batch_id, created_by, now, int(split)))
            db.executemany(
                "INSERT INTO batch_items (batch_id, seq, name, path, size, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(batch_id, seq, name, path, size, now) for seq, (name, path, size) in enumerate(files, 1)],
            )
        return self.get(batch_id)

    def get(self, batch_id: str) -> Batch | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if row is None:
                return None
            items = [_item(r) for r in db.execute(
                "SELECT * FROM batch_items WHERE batch_id = ? ORDER BY seq", (batch_id,))]
        return Batch(id=row["id"], created_by=row["created_by"], created_at=row["created_at"], items=items,
                     split=bool(row["split"]))

    def recent(self, limit: int = 20) -> list[Batch]:
        with connect(self.path) as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM batches ORDER BY created_at DESC LIMIT ?", (limit,))]
        return [b for b in map(self.get, ids) if b is not None]

    def unfinished(self) -> list[str]:
        """Batches with files not yet done (after a restart, the worker takes them up again)."""
        with connect(self.path) as db:
            return [r["batch_id"] for r in db.execute(
                "SELECT DISTINCT batch_id FROM batch_items WHERE status IN ('pending', 'processing')")]

    def item(self, batch_id: str, seq: int) -> Item | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM batch_items WHERE batch_id = ? AND seq = ?", (batch_id, seq)).fetchone()
        return _item(row) if row else None

    def claim_pending(self, batch_id: str) -> list[Item]:
        """The batch's pending (or interrupted) items, now marked processing."""
        with connect(self.path) as db:
            rows = db.execute("SELECT * FROM batch_items WHERE batch_id = ? AND status IN ('pending', 'processing') "
                              "ORDER BY seq", (batch_id,)).fetchall()
            db.execute("UPDATE batch_items SET status = 'processing', updated_at = ? "
                       "WHERE batch_id = ? AND status IN ('pending', 'processing')", (time.time(), batch_id))
        return [_item(r) for r in rows]

    def add_item(self, batch_id: str, name: str, path: str, size: int) -> int:
        """One more item (a document split out of an uploaded file); its ``seq``."""
        with connect(self.path) as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM batch_items WHERE batch_id = ?",
                             (batch_id,)).fetchone()[0]
            db.execute("INSERT INTO batch_items (batch_id, seq, name, path, size, status, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, 'processing', ?)", (batch_id, seq, name, path, size, time.time()))
        return seq

    def finish(self, batch_id: str, seq: int, status: str, *, doc_id: str | None = None, sha256: str | None = None,
               doc_type: str | None = None, confidence: float | None = None, fields: dict[str, str] | None = None,
               reason: str | None = None) -> None:
        with connect(self.path) as db:
            db.execute(
                "UPDATE batch_items SET status = ?, doc_id = ?, sha256 = ?, doc_type = ?, confidence = ?, fields = ?, "
                "reason = ?, updated_at = ? WHERE batch_id = ? AND seq = ?",
                (status, doc_id, sha256, doc_type, confidence, json.dumps(fields or {}, ensure_ascii=False),
                 reason, time.time(), batch_id, seq),
            )

    def set_status(self, batch_id: str, seq: int, status: str) -> None:
        with connect(self.path) as db:
            db.execute("UPDATE batch_items SET status = ?, updated_at = ? WHERE batch_id = ? AND seq = ?",
                       (status, time.time(), batch_id, seq))

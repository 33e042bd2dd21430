"""Which record versions a reviewer accepted (SQLite), so an accepted document leaves the
review queue even when the rule still has something to say (a required field that the
document really does not have, a validation note). A later version is judged afresh."""

from __future__ import annotations

import time
from pathlib import Path

from web.db import connect, create_tables

__all__ = ["ReviewLog"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    doc_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    accepted_by TEXT NOT NULL,
    accepted_at REAL NOT NULL
);
"""


class ReviewLog:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        create_tables(self.path, _SCHEMA)

    def accept(self, doc_id: str, version: int, user: str) -> None:
        with connect(self.path) as db:
            db.execute("INSERT OR REPLACE INTO reviews (doc_id, version, accepted_by, accepted_at) VALUES (?, ?, ?, ?)",
                       (doc_id, version, user, time.time()))

    def accepted(self) -> dict[str, int]:
        """Document id -> the version that was accepted."""
        with connect(self.path) as db:
            return {r["doc_id"]: r["version"] for r in db.execute("SELECT doc_id, version FROM reviews")}

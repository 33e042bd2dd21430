"""Which record versions a reviewer accepted (SQLite): a copy kept for the admin pages' counts
(the dashboard's backlog and the threshold page's preview, ``web.ledger.review_counts``), which
read it as ``{doc_id: version}``.

The acceptance itself is in the record (``Document.accepted``): the review queue, the
``review:`` search field and ``ecm review`` go by the record and the index, not by this table.
It can go once the ledger reads the acceptance from the records it already copies."""

from __future__ import annotations

import time
from pathlib import Path

from ecm.db import connect, create_tables

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

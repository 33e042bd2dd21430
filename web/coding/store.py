"""Coding batches, Bates numbers, codings and QC results, in the web application's SQLite file
(``ECM_HOME/ecm.sqlite``, next to users and upload batches).

A coding is stored keyed by document id + the record version its save made + coder, with its
kind: ``code`` (the assigned coder), ``qc`` (the second coder's blind coding) or ``resolved``
(the QC coder's decision between the two). The final coding of a document in a batch is its
latest ``code`` or ``resolved`` one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web.coding.bates import bates
from ecm.db import connect, create_tables

__all__ = ["CodingStore", "Batch", "BatchDoc", "NewDoc", "Coding", "QcResult", "KINDS"]

KINDS = ("code", "qc", "resolved")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS coding_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    coder TEXT NOT NULL,
    qc_coder TEXT,
    qc_share REAL NOT NULL,
    seed INTEGER NOT NULL,
    bates_prefix TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS coding_batch_docs (
    batch_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    native_ext TEXT NOT NULL,
    bates_begin TEXT NOT NULL,
    bates_end TEXT NOT NULL,
    qc_coder TEXT,
    PRIMARY KEY (batch_id, seq),
    UNIQUE (batch_id, doc_id)
);
CREATE TABLE IF NOT EXISTS bates_counters (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bates_numbers (
    prefix TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    bates_begin TEXT NOT NULL,
    bates_end TEXT NOT NULL,
    PRIMARY KEY (prefix, doc_id)
);
CREATE TABLE IF NOT EXISTS codings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    coder TEXT NOT NULL,
    kind TEXT NOT NULL,
    vals TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS codings_by_doc ON codings (batch_id, doc_id, kind);
CREATE TABLE IF NOT EXISTS coding_qc (
    batch_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    coder TEXT NOT NULL,
    qc_coder TEXT NOT NULL,
    compared INTEGER NOT NULL,
    agreed INTEGER NOT NULL,
    disagreements TEXT NOT NULL,
    resolved_at REAL NOT NULL,
    PRIMARY KEY (batch_id, doc_id)
);
"""


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    created_by: str
    created_at: float
    coder: str
    qc_coder: str | None
    qc_share: float
    seed: int
    bates_prefix: str
    source: str


@dataclass(frozen=True)
class NewDoc:
    doc_id: str
    name: str
    sha256: str
    native_ext: str
    page_count: int


@dataclass(frozen=True)
class BatchDoc:
    batch_id: int
    seq: int
    doc_id: str
    name: str
    sha256: str
    native_ext: str
    bates_begin: str
    bates_end: str
    qc_coder: str | None


@dataclass(frozen=True)
class Coding:
    id: int
    batch_id: int
    doc_id: str
    version: int
    coder: str
    kind: str
    values: dict[str, Any]
    saved_at: float


@dataclass(frozen=True)
class QcResult:
    batch_id: int
    doc_id: str
    coder: str
    qc_coder: str
    compared: int
    agreed: int
    disagreements: list[str]
    resolved_at: float


def _batch(row) -> Batch:
    return Batch(**{k: row[k] for k in row.keys()})


def _doc(row) -> BatchDoc:
    return BatchDoc(**{k: row[k] for k in row.keys()})


def _coding(row) -> Coding:
    return Coding(id=row["id"], batch_id=row["batch_id"], doc_id=row["doc_id"], version=row["version"],
                  coder=row["coder"], kind=row["kind"], values=json.loads(row["vals"]), saved_at=row["saved_at"])


def _qc(row) -> QcResult:
    return QcResult(batch_id=row["batch_id"], doc_id=row["doc_id"], coder=row["coder"], qc_coder=row["qc_coder"],
                    compared=row["compared"], agreed=row["agreed"], disagreements=json.loads(row["disagreements"]),
                    resolved_at=row["resolved_at"])


class CodingStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        create_tables(self.path, _SCHEMA)

    # ------------------------------------------------------------------ batches
    def create_batch(self, *, name: str, created_by: str, coder: str, qc_coder: str | None, qc_share: float,
                     seed: int, bates_prefix: str, source: str, docs: Sequence[NewDoc],
                     qc_docs: dict[str, str]) -> Batch:
        """A batch of ``docs`` in this order. Each document keeps the Bates range it already
        has under ``bates_prefix``; the others are numbered on from the prefix's counter, in
        one transaction (two leads creating batches at once never share a number)."""
        with connect(self.path) as db:
            cur = db.execute(
                "INSERT INTO coding_batches (name, created_by, created_at, coder, qc_coder, qc_share, seed, "
                "bates_prefix, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, created_by, time.time(), coder, qc_coder, qc_share, seed, bates_prefix, source))
            batch_id = cur.lastrowid
            row = db.execute("SELECT next FROM bates_counters WHERE prefix = ?", (bates_prefix,)).fetchone()
            number = row["next"] if row else 1
            for seq, doc in enumerate(docs, start=1):
                known = db.execute("SELECT bates_begin, bates_end FROM bates_numbers WHERE prefix = ? AND doc_id = ?",
                                   (bates_prefix, doc.doc_id)).fetchone()
                if known:
                    begin, end = known["bates_begin"], known["bates_end"]
                else:
                    pages = max(1, doc.page_count)
                    begin, end = bates(bates_prefix, number), bates(bates_prefix, number + pages - 1)
                    number += pages
                    db.execute("INSERT INTO bates_numbers (prefix, doc_id, bates_begin, bates_end) VALUES (?, ?, ?, ?)",
                               (bates_prefix, doc.doc_id, begin, end))
                db.execute("INSERT INTO coding_batch_docs (batch_id, seq, doc_id, name, sha256, native_ext, bates_begin, "
                           "bates_end, qc_coder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (batch_id, seq, doc.doc_id, doc.name, doc.sha256, doc.native_ext, begin, end,
                            qc_docs.get(doc.doc_id)))
            db.execute("INSERT OR REPLACE INTO bates_counters (prefix, next) VALUES (?, ?)", (bates_prefix, number))
            return _batch(db.execute("SELECT * FROM coding_batches WHERE id = ?", (batch_id,)).fetchone())

    def batch(self, batch_id: int) -> Batch | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM coding_batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch(row) if row else None

    def batches(self, user: str | None = None) -> list[Batch]:
        """Every batch (newest first), or those ``user`` codes or checks."""
        with connect(self.path) as db:
            if user is None:
                rows = db.execute("SELECT * FROM coding_batches ORDER BY id DESC").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM coding_batches WHERE coder = ? OR id IN "
                    "(SELECT batch_id FROM coding_batch_docs WHERE qc_coder = ?) ORDER BY id DESC", (user, user)).fetchall()
        return [_batch(r) for r in rows]

    def docs(self, batch_id: int) -> list[BatchDoc]:
        with connect(self.path) as db:
            return [_doc(r) for r in db.execute("SELECT * FROM coding_batch_docs WHERE batch_id = ? ORDER BY seq",
                                                (batch_id,))]

    def doc_at(self, batch_id: int, seq: int) -> BatchDoc | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM coding_batch_docs WHERE batch_id = ? AND seq = ?", (batch_id, seq)).fetchone()
        return _doc(row) if row else None

    # ------------------------------------------------------------------ codings
    def save_coding(self, batch_id: int, doc_id: str, version: int, coder: str, kind: str, values: dict[str, Any],
                    saved_at: float | None = None) -> Coding:
        if kind not in KINDS:
            raise ValueError(f"unknown coding kind {kind!r}")
        with connect(self.path) as db:
            cur = db.execute("INSERT INTO codings (batch_id, doc_id, version, coder, kind, vals, saved_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (batch_id, doc_id, version, coder, kind, json.dumps(values, ensure_ascii=False),
                              time.time() if saved_at is None else saved_at))
            return _coding(db.execute("SELECT * FROM codings WHERE id = ?", (cur.lastrowid,)).fetchone())

    def latest(self, batch_id: int, doc_id: str, kinds: Sequence[str]) -> Coding | None:
        marks = ",".join("?" * len(kinds))
        with connect(self.path) as db:
            row = db.execute(f"SELECT * FROM codings WHERE batch_id = ? AND doc_id = ? AND kind IN ({marks}) "
                             "ORDER BY id DESC LIMIT 1", (batch_id, doc_id, *kinds)).fetchone()
        return _coding(row) if row else None

    def final(self, batch_id: int, doc_id: str) -> Coding | None:
        return self.latest(batch_id, doc_id, ("code", "resolved"))

    def codings(self, batch_id: int | None = None, kind: str | None = None) -> list[Coding]:
        sql, args = "SELECT * FROM codings WHERE 1 = 1", []
        if batch_id is not None:
            sql += " AND batch_id = ?"
            args.append(batch_id)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        with connect(self.path) as db:
            return [_coding(r) for r in db.execute(sql + " ORDER BY id", args)]

    # ------------------------------------------------------------------ QC
    def record_qc(self, batch_id: int, doc_id: str, coder: str, qc_coder: str, compared: int, agreed: int,
                  disagreements: Sequence[str]) -> None:
        with connect(self.path) as db:
            db.execute("INSERT OR REPLACE INTO coding_qc (batch_id, doc_id, coder, qc_coder, compared, agreed, "
                       "disagreements, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (batch_id, doc_id, coder, qc_coder, compared, agreed, json.dumps(list(disagreements)),
                        time.time()))

    def qc_results(self, batch_id: int | None = None) -> list[QcResult]:
        with connect(self.path) as db:
            if batch_id is None:
                rows = db.execute("SELECT * FROM coding_qc ORDER BY resolved_at").fetchall()
            else:
                rows = db.execute("SELECT * FROM coding_qc WHERE batch_id = ? ORDER BY resolved_at",
                                  (batch_id,)).fetchall()
        return [_qc(r) for r in rows]

"""A queryable copy of the archive's audit trail, and what the admin pages derive from it.

The store's audit events (one small object per event under ``audit/<day>/``) are the truth, but
filtering or counting them means reading every object. The ledger copies each event once into
SQLite (``ECM_HOME/ecm.sqlite``) and, from the events that change a document (ingest, edit,
accept, hold, retain, delete), keeps one row per document with what the dashboard and the
threshold page need: type, pages, when it was stored, the lowest machine confidence, whether
its type requires something that is missing, whether a person set a value, its hold state.

It is a cache: dropping its tables and syncing again rebuilds it from the store. ``sync`` is
incremental (only today's and yesterday's folders are listed again; objects already copied are
not read again) and rate-limited, so pages may call it on every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ecm.errors import NotFound, StoreError
from store import Archive
from store.archive import AuditEvent
from ecm.db import connect, create_tables

try:  # the extractors' rule of which fields a type requires
    from extract.review import required_fields
except ImportError:  # pragma: no cover - depends on the extract package's version
    def required_fields(doc_type: str) -> tuple[str, ...]:
        return ()

__all__ = ["Ledger", "AuditRow", "HoldRow", "AuditFilter", "doc_stats_row", "DOC_ACTIONS"]

# Events after which a document's row is read again from its record.
DOC_ACTIONS = frozenset({"ingest", "edit", "accept", "delete", "hold", "release", "retain", "code", "qc"})
HOLD_ACTIONS = frozenset({"hold", "release", "retain"})
NO_MACHINE_VALUE = 2.0  # min_conf when every value was set by a person (above any threshold)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    key TEXT PRIMARY KEY,          -- the object's key in the store
    at REAL NOT NULL,              -- unix time
    day TEXT NOT NULL,             -- YYYY-MM-DD (UTC)
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    doc_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at);
CREATE INDEX IF NOT EXISTS audit_events_day ON audit_events(day);
CREATE INDEX IF NOT EXISTS audit_events_doc ON audit_events(doc_id, at);
CREATE INDEX IF NOT EXISTS audit_events_action ON audit_events(action, at);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events(actor, at);
CREATE TABLE IF NOT EXISTS doc_stats (
    doc_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    doc_type TEXT,
    pages INTEGER NOT NULL,
    stored_at REAL NOT NULL,       -- first ingest event
    min_conf REAL NOT NULL,        -- lowest confidence of a machine-set type or field
    structural INTEGER NOT NULL,   -- needs review whatever the threshold (unclassified, missing, problems)
    touched INTEGER NOT NULL       -- a person set the type or a field
);
CREATE INDEX IF NOT EXISTS doc_stats_stored ON doc_stats(stored_at);
CREATE TABLE IF NOT EXISTS holds (
    doc_id TEXT PRIMARY KEY,
    hold INTEGER NOT NULL,
    retain_until TEXT,
    changed_by TEXT NOT NULL,
    changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    doc_id: str | None
    detail: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "actor": self.actor, "action": self.action, "doc_id": self.doc_id,
                "detail": self.detail}


@dataclass(frozen=True)
class HoldRow:
    doc_id: str
    name: str
    hold: bool
    retain_until: str | None
    changed_by: str
    changed_at: datetime

    def public(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "name": self.name, "hold": self.hold, "retain_until": self.retain_until,
                "changed_by": self.changed_by, "changed_at": self.changed_at.isoformat()}


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    doc_id: str = ""
    since: date | None = None  # first day included
    until: date | None = None  # last day included

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if self.actor:
            # "ann" finds "user:ann"; a full actor ("cli", "user:ann") matches itself.
            clauses.append("(actor = ? OR actor = ?)")
            args += [self.actor, f"user:{self.actor}"]
        if self.action:
            clauses.append("action = ?")
            args.append(self.action)
        if self.doc_id:
            clauses.append("doc_id = ?")
            args.append(self.doc_id)
        if self.since:
            clauses.append("day >= ?")
            args.append(self.since.isoformat())
        if self.until:
            clauses.append("day <= ?")
            args.append(self.until.isoformat())
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def doc_stats_row(record: dict[str, Any]) -> dict[str, Any]:
    """What the ledger keeps of one record (the stored JSON, pages not needed): the same rule
    as ``extract.review.needs_review``, split into its threshold and non-threshold parts."""
    doc_type = record.get("doc_type") or None
    fields = record.get("fields") or {}
    machine = [] if doc_type is None or str(doc_type.get("source", "")).startswith("user:") \
        else [float(doc_type.get("confidence", 0.0))]
    touched = doc_type is not None and str(doc_type.get("source", "")).startswith("user:")
    for value in fields.values():
        if str(value.get("source", "")).startswith("user:"):
            touched = True
        else:
            machine.append(float(value.get("confidence", 0.0)))
    structural = doc_type is None or bool(record.get("problems")) or any(
        name not in fields for name in required_fields(doc_type["label"]))
    source = str(record.get("source", ""))
    return {
        "version": int(record.get("version", 0)),
        "name": source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or record.get("id", ""),
        "doc_type": doc_type["label"] if doc_type else None,
        "pages": int(record.get("page_count", 0)),
        "min_conf": min(machine) if machine else NO_MACHINE_VALUE,
        "structural": int(structural),
        "touched": int(touched),
        "status": record.get("status", "ok"),
    }


class Ledger:
    def __init__(self, path: Path | str, archive: Archive, min_interval_s: float = 2.0):
        self.path = Path(path)
        self.archive = archive
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._synced_at = 0.0
        create_tables(self.path, _SCHEMA)

    # ------------------------------------------------------------------ copying the trail

    def sync(self, force: bool = False) -> int:
        """Copy audit events not yet copied; returns how many. At most once per
        ``min_interval_s`` unless ``force``."""
        with self._lock:
            if not force and time.monotonic() - self._synced_at < self.min_interval_s:
                return 0
            copied = self._sync()
            self._synced_at = time.monotonic()
            return copied

    def _state(self, name: str) -> str | None:
        with connect(self.path) as db:
            row = db.execute("SELECT value FROM ledger_state WHERE name = ?", (name,)).fetchone()
        return row["value"] if row else None

    def _keys_to_read(self) -> Iterator[str]:
        last = self._state("listed_through")
        today = datetime.now(timezone.utc).date()
        if last is None:
            yield from self.archive.blobs.keys("audit/")
            return
        # Events are written under the day they happened; a writer may still be finishing
        # yesterday's, so list from the day before the last listing (and tomorrow, for clocks).
        day = date.fromisoformat(last) - timedelta(days=1)
        while day <= today + timedelta(days=1):
            yield from self.archive.blobs.keys(f"audit/{day.isoformat()}/")
            day += timedelta(days=1)

    def _sync(self) -> int:
        known: dict[str, set[str]] = {}
        rows: list[tuple] = []
        copied = 0
        changed_docs: dict[str, str] = {}  # doc id -> last action
        for key in self._keys_to_read():
            day = key.split("/")[1] if key.count("/") >= 2 else ""
            if day not in known:
                with connect(self.path) as db:
                    known[day] = {r["key"] for r in db.execute("SELECT key FROM audit_events WHERE day = ?", (day,))}
            if key in known[day]:
                continue
            try:
                event = AuditEvent.model_validate_json(self.archive.blobs.get(key))
            except (StoreError, NotFound, ValueError):
                continue  # a half-written or foreign object: not an event
            rows.append((key, _ts(event.at), event.at.date().isoformat(), event.actor, event.action, event.doc_id,
                         json.dumps(event.detail, ensure_ascii=False, default=str)))
            if event.doc_id and event.action in DOC_ACTIONS:
                changed_docs[event.doc_id] = event.action
            copied += 1
            if len(rows) >= 2000:
                self._insert(rows)
                rows = []
        self._insert(rows)
        for doc_id, action in changed_docs.items():
            self._refresh_doc(doc_id)
            if action in HOLD_ACTIONS or self._has_hold_row(doc_id):
                self._refresh_hold(doc_id)
        with connect(self.path) as db:
            db.execute("INSERT OR REPLACE INTO ledger_state (name, value) VALUES ('listed_through', ?)",
                       (datetime.now(timezone.utc).date().isoformat(),))
        return copied

    def _insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with connect(self.path) as db:
            db.executemany("INSERT OR IGNORE INTO audit_events (key, at, day, actor, action, doc_id, detail) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _record(self, doc_id: str) -> dict[str, Any] | None:
        # The record JSON alone (the archive's get() would also read every page's words).
        versions = self.archive.versions(doc_id)
        if not versions:
            return None
        record = json.loads(self.archive.blobs.get(f"docs/{doc_id}/record/{versions[-1]:06d}.json"))
        record.setdefault("version", versions[-1])
        return record

    def _refresh_doc(self, doc_id: str) -> None:
        try:
            record = self._record(doc_id)
        except (StoreError, NotFound, ValueError):
            record = None
        with connect(self.path) as db:
            if record is None or record.get("status", "ok") != "ok":
                db.execute("DELETE FROM doc_stats WHERE doc_id = ?", (doc_id,))
                return
            row = doc_stats_row(record)
            first = db.execute("SELECT MIN(at) FROM audit_events WHERE doc_id = ? AND action = 'ingest'",
                               (doc_id,)).fetchone()[0]
            created = record.get("created_at")
            stored_at = first if first is not None else (
                _ts(datetime.fromisoformat(created)) if created else time.time())
            db.execute(
                "INSERT OR REPLACE INTO doc_stats (doc_id, version, name, doc_type, pages, stored_at, min_conf, "
                "structural, touched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, row["version"], row["name"], row["doc_type"], row["pages"], stored_at, row["min_conf"],
                 row["structural"], row["touched"]))

    def _has_hold_row(self, doc_id: str) -> bool:
        with connect(self.path) as db:
            return db.execute("SELECT 1 FROM holds WHERE doc_id = ?", (doc_id,)).fetchone() is not None

    def _refresh_hold(self, doc_id: str) -> None:
        try:
            state = self.archive.holds(doc_id)
        except (StoreError, NotFound, ValueError):
            state = {"hold": False, "retain_until": None}
        with connect(self.path) as db:
            last = db.execute("SELECT actor, at FROM audit_events WHERE doc_id = ? AND action IN "
                              "('hold', 'release', 'retain') ORDER BY at DESC LIMIT 1", (doc_id,)).fetchone()
            if not state.get("hold") and not state.get("retain_until"):
                db.execute("DELETE FROM holds WHERE doc_id = ?", (doc_id,))
                return
            db.execute("INSERT OR REPLACE INTO holds (doc_id, hold, retain_until, changed_by, changed_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (doc_id, int(bool(state.get("hold"))), state.get("retain_until"),
                        last["actor"] if last else "", last["at"] if last else time.time()))

    # ------------------------------------------------------------------ the audit trail

    def audit(self, where: AuditFilter, limit: int = 50, offset: int = 0) -> tuple[int, list[AuditRow]]:
        clause, args = where.where()
        with connect(self.path) as db:
            total = db.execute(f"SELECT COUNT(*) FROM audit_events{clause}", args).fetchone()[0]
            rows = db.execute(f"SELECT at, actor, action, doc_id, detail FROM audit_events{clause} "
                              "ORDER BY at DESC, key DESC LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return total, [self._audit_row(r) for r in rows]

    def audit_all(self, where: AuditFilter, batch: int = 5000) -> Iterator[AuditRow]:
        """Every matching event, newest first, read in batches (CSV export)."""
        offset = 0
        while True:
            _, rows = self.audit(where, limit=batch, offset=offset)
            yield from rows
            if len(rows) < batch:
                return
            offset += batch

    @staticmethod
    def _audit_row(r: Any) -> AuditRow:
        try:
            detail = json.loads(r["detail"] or "{}")
        except ValueError:
            detail = {}
        return AuditRow(at=_when(r["at"]), actor=r["actor"], action=r["action"], doc_id=r["doc_id"],
                        detail=detail if isinstance(detail, dict) else {})

    def choices(self) -> dict[str, list[str]]:
        """Actors and actions seen, for the filter's pick lists."""
        with connect(self.path) as db:
            actions = [r[0] for r in db.execute("SELECT DISTINCT action FROM audit_events ORDER BY action")]
            actors = [r[0] for r in db.execute("SELECT DISTINCT actor FROM audit_events ORDER BY actor LIMIT 500")]
        return {"actions": actions, "actors": actors}

    # ------------------------------------------------------------------ holds

    def holds(self) -> list[HoldRow]:
        with connect(self.path) as db:
            rows = db.execute("SELECT h.*, COALESCE(s.name, h.doc_id) AS name FROM holds h "
                              "LEFT JOIN doc_stats s ON s.doc_id = h.doc_id "
                              "ORDER BY h.hold DESC, h.retain_until, h.doc_id").fetchall()
        return [HoldRow(doc_id=r["doc_id"], name=r["name"], hold=bool(r["hold"]), retain_until=r["retain_until"],
                        changed_by=r["changed_by"], changed_at=_when(r["changed_at"])) for r in rows]

    def refresh_hold(self, doc_id: str) -> None:
        """After a change made here: the list shows it without waiting for the next sync."""
        self.sync(force=True)
        self._refresh_hold(doc_id)

    # ------------------------------------------------------------------ review counts

    def review_counts(self, threshold: float, accepted: dict[str, int]) -> dict[str, Any]:
        """Documents needing review at ``threshold`` (the threshold page's preview and the
        dashboard's backlog): count, oldest, and how many passed straight through."""
        with connect(self.path) as db:
            rows = db.execute("SELECT doc_id, version, stored_at, min_conf, structural, touched FROM doc_stats "
                              ).fetchall()
        backlog, oldest, straight = 0, None, 0
        for r in rows:
            needs = bool(r["structural"]) or r["min_conf"] < threshold
            if needs and accepted.get(r["doc_id"]) != r["version"]:
                backlog += 1
                oldest = r["stored_at"] if oldest is None else min(oldest, r["stored_at"])
            if not needs and not r["touched"]:
                straight += 1
        return {"documents": len(rows), "backlog": backlog, "oldest": _when(oldest) if oldest else None,
                "straight_through": straight}

    def confidence_histogram(self) -> list[tuple[float, int, int]]:
        """(min_conf, structural, count) groups: how many documents each threshold sends to review."""
        with connect(self.path) as db:
            return [(r[0], r[1], r[2]) for r in db.execute(
                "SELECT ROUND(min_conf, 3), structural, COUNT(*) FROM doc_stats GROUP BY 1, 2")]

    def doc_names(self, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        with connect(self.path) as db:
            marks = ",".join("?" * len(ids))
            return {r[0]: r[1] for r in db.execute(f"SELECT doc_id, name FROM doc_stats WHERE doc_id IN ({marks})", ids)}

"""Workflow state in one SQLite file, ``ECM_HOME/ecm.sqlite``: the web application's users,
upload batches, coding and review tables, and the admin's settings (``ecm.settings``). Stdlib
``sqlite3``; a short-lived connection per operation, so every thread (request handlers, the
batch worker) and every ``ecm`` command can use it at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ecm.errors import StoreError

__all__ = ["DB_NAME", "connect", "create_tables", "database_path"]

DB_NAME = "ecm.sqlite"


def database_path(home: Path | str) -> Path:
    return Path(home) / DB_NAME


@contextmanager
def connect(path: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection in a transaction: committed when the block ends, rolled back on error. A
    reader (``write=False``) does not take the write lock and does not create the folder."""
    try:
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=15, isolation_level=None)
    except (OSError, sqlite3.Error) as err:
        raise StoreError(f"cannot open the database {path}: {err}") from err
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA busy_timeout = 15000")
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as err:
        raise StoreError(f"database {path}: {err}") from err
    finally:
        conn.close()


def create_tables(path: Path, schema: str) -> None:
    """Run ``CREATE TABLE IF NOT EXISTS ...`` statements; switch the file to WAL (readers
    never wait for the writer)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=15)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(schema)
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as err:
        raise StoreError(f"cannot set up the database {path}: {err}") from err

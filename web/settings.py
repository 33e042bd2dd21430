"""Settings an admin changes in the web UI, kept in SQLite (``settings`` table of
``ECM_HOME/ecm.sqlite``). A stored setting overrides the configuration file's default;
removing it (``clear``) brings the default back.

Only ``review.threshold`` exists so far: the confidence below which a document goes to review.
"""

from __future__ import annotations

import time
from pathlib import Path

from ecm.config import Config
from ecm.errors import EcmError, ExitCode
from web.db import connect, create_tables

__all__ = ["SettingsStore", "SettingError", "THRESHOLD", "check_threshold", "apply_settings"]

THRESHOLD = "review.threshold"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class SettingError(EcmError):
    """A setting value that cannot be used; the message says what would be accepted."""

    exit_code = ExitCode.usage


def check_threshold(raw: str | float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingError(f"the threshold must be a number between 0 and 1 (for example 0.8), not {raw!r}") from None
    if not 0.0 <= value <= 1.0 or value != value:
        raise SettingError(f"the threshold must be between 0 and 1 (for example 0.8), not {value:g}")
    return round(value, 4)


class SettingsStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        create_tables(self.path, _SCHEMA)

    def get(self, name: str) -> str | None:
        with connect(self.path) as db:
            row = db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return row["value"] if row else None

    def info(self, name: str) -> dict | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM settings WHERE name = ?", (name,)).fetchone()
        return dict(row) if row else None

    def set(self, name: str, value: str, by: str) -> None:
        with connect(self.path) as db:
            db.execute("INSERT OR REPLACE INTO settings (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                       (name, value, by, time.time()))

    def clear(self, name: str) -> None:
        with connect(self.path) as db:
            db.execute("DELETE FROM settings WHERE name = ?", (name,))

    def threshold(self) -> float | None:
        raw = self.get(THRESHOLD)
        try:
            return check_threshold(raw) if raw is not None else None
        except SettingError:
            return None  # a bad stored value falls back to the configuration


def apply_settings(config: Config, settings: SettingsStore) -> Config:
    """A copy of ``config`` with the stored overrides applied (the caller's object is left alone)."""
    config = config.model_copy(deep=True)
    threshold = settings.threshold()
    if threshold is not None:
        config.review.threshold = threshold
    return config

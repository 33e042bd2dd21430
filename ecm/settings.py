"""Settings an admin changes while ecm runs (the web UI's admin pages), kept in SQLite: the
``settings`` table of ``ECM_HOME/ecm.sqlite``. Every process applies them when it loads its
configuration (``ecm serve`` at start and at once when the admin saves, every other ``ecm``
command as it starts), so the web and the command line work to one review threshold.

Only ``review.threshold`` exists so far: the confidence below which a document goes to review.

Precedence, highest first:

    ECM_REVIEW_THRESHOLD  >  the admin's stored value  >  ecm.toml [review] threshold  >  default

The environment wins because it is how an operator pins a value for one process or one
deployment (a test run, a container) on purpose; the admin page says when the value is pinned
and refuses to change it rather than appear to. The stored value wins over the file because it
is the later, deliberate decision of the person responsible, made where its effect is previewed.

The table lives in the workflow database (``ecm.db``) beside the web's tables. Commands that
only read (``ecm process``) never create the file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecm.config import Config, load_config
from ecm.db import connect, create_tables, database_path
from ecm.errors import EcmError, ExitCode, StoreError

__all__ = [
    "SettingsStore", "SettingError", "THRESHOLD", "THRESHOLD_ENV", "check_threshold",
    "apply_settings", "configured", "pinned_by_environment", "effective_config", "command_config",
]

THRESHOLD = "review.threshold"
THRESHOLD_ENV = "ECM_REVIEW_THRESHOLD"

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
    """The stored settings. ``create=False`` only reads: no file or table means no settings."""

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        self._ready = False
        if create:
            create_tables(self.path, _SCHEMA)
            self._ready = True

    def _row(self, name: str) -> dict | None:
        if not self._ready and not self.path.is_file():
            return None
        try:
            with connect(self.path, write=False) as db:
                row = db.execute("SELECT * FROM settings WHERE name = ?", (name,)).fetchone()
        except StoreError as err:
            if not self._ready and "no such table" in str(err):
                return None  # a file the web has not set up settings in yet
            raise
        return dict(row) if row else None

    def get(self, name: str) -> str | None:
        row = self._row(name)
        return row["value"] if row else None

    def info(self, name: str) -> dict | None:
        return self._row(name)

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


def pinned_by_environment(env: Mapping[str, str] | None = None) -> str | None:
    """The environment variable that fixes the threshold, when one does."""
    env = os.environ if env is None else env
    return THRESHOLD_ENV if THRESHOLD_ENV in env else None


def apply_settings(config: Config, settings: SettingsStore, env: Mapping[str, str] | None = None) -> Config:
    """A copy of ``config`` with the stored overrides applied, unless the environment pins the
    value (the caller's object is left alone). The copy remembers what each override replaced
    (``configured``), so the admin page can show the configured value and go back to it."""
    config = config.model_copy(deep=True)
    threshold = settings.threshold()
    if threshold is not None and not pinned_by_environment(env):
        config._replaced.setdefault(THRESHOLD, config.review.threshold)
        config.review.threshold = threshold
    return config


def configured(config: Config, name: str = THRESHOLD) -> Any:
    """The value ``name`` has without the admin's override (environment, file or default)."""
    if name in config._replaced:
        return config._replaced[name]
    section, key = name.split(".")
    return getattr(getattr(config, section), key)


def effective_config(home: Path | str | None = None, config_file: Path | str | None = None,
                     env: Mapping[str, str] | None = None) -> Config:
    """``load_config`` and then the stored settings of that ECM_HOME: what every command uses."""
    config = load_config(home, config_file, None if env is None else dict(env))
    return apply_settings(config, SettingsStore(database_path(config.home), create=False), env)


def command_config() -> Config:
    """The configuration of the ``ecm`` command being run: the root command's --home and
    --config, read from click's context so nothing carries over between invocations in one
    process (tests run many); run outside a command, the environment's."""
    import click  # the CLI's own dependency; kept out of plain library imports

    context = click.get_current_context(silent=True)
    params = context.find_root().params if context is not None else {}
    return effective_config(params.get("home"), params.get("config"))

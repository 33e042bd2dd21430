"""Users and roles of the web application, kept in SQLite (``ECM_HOME/ecm.sqlite``).

Passwords are hashed with argon2id (``argon2-cffi``); a hash made with older parameters is
replaced at the next successful sign-in. Repeated failures lock an account for a while
(``MAX_FAILURES`` within one lock period). Each user has an ``epoch`` that changes when their
password, role or status changes: session cookies carry it, so such a change signs the user
out everywhere.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ecm.errors import EcmError, ExitCode
from ecm.db import connect, create_tables

__all__ = [
    "Role",
    "ROLES",
    "User",
    "UserStore",
    "UserError",
    "SignInRefused",
    "MAX_FAILURES",
    "LOCK_SECONDS",
    "MIN_PASSWORD",
]

MAX_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCK_SECONDS = 15 * 60
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 would hash anything; a bound keeps sign-in cheap to refuse
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Role(StrEnum):
    admin = "admin"
    mailroom = "mailroom"
    coder = "coder"
    reviewer = "reviewer"
    clerk = "clerk"


ROLES = tuple(Role)


class UserError(EcmError):
    """A user command that cannot be done (unknown user, bad name, weak password)."""

    exit_code = ExitCode.usage


class SignInRefused(EcmError):
    """A sign-in that failed; the message can be shown to the person signing in."""

    exit_code = ExitCode.usage


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool
    epoch: int
    created_at: float

    @property
    def actor(self) -> str:
        """How audit events name this user."""
        return f"user:{self.name}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


def _user(row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(id=row["id"], name=row["name"], role=Role(row["role"]), disabled=bool(row["disabled"]),
                epoch=row["epoch"], created_at=row["created_at"])


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise UserError(f"bad user name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', "
                        "starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    return password


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}") from None


class UserStore:
    """Users in the SQLite file at ``path`` (created with its tables when missing)."""

    def __init__(self, path: Path | str, hasher: PasswordHasher | None = None):
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        create_tables(self.path, _SCHEMA)
        # A hash to check against when the name is unknown, so a wrong name takes as long
        # as a wrong password (no finding out which names exist from the timing).
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    # ------------------------------------------------------------------ reading
    def count(self) -> int:
        with connect(self.path) as db:
            return db.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def get(self, user_id: int) -> User | None:
        with connect(self.path) as db:
            return _user(db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())

    def by_name(self, name: str) -> User | None:
        with connect(self.path) as db:
            return _user(db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone())

    def list(self) -> list[User]:
        with connect(self.path) as db:
            return [_user(r) for r in db.execute("SELECT * FROM users ORDER BY name")]

    def _must(self, name: str) -> User:
        user = self.by_name(name)
        if user is None:
            raise UserError(f"there is no user {name!r}; `ecm user list` shows them")
        return user

    # ------------------------------------------------------------------ changing
    def add(self, name: str, role: Role | str, password: str) -> User:
        check_name(name)
        role = check_role(role)
        hashed = self.hasher.hash(check_password(password))
        with connect(self.path) as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserError(f"user {name!r} already exists; change it with `ecm user set-role` or `passwd`")
            db.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                       (name, role.value, hashed, time.time()))
        return self._must(name)

    def set_role(self, name: str, role: Role | str) -> User:
        role = check_role(role)
        self._must(name)
        with connect(self.path) as db:
            db.execute("UPDATE users SET role = ?, epoch = epoch + 1 WHERE name = ?", (role.value, name))
        return self._must(name)

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        self._must(name)
        with connect(self.path) as db:
            db.execute("UPDATE users SET disabled = ?, epoch = epoch + 1 WHERE name = ?", (int(disabled), name))
        return self._must(name)

    def set_password(self, name: str, password: str) -> User:
        """A new password; also lifts a lock and signs the user out of every session."""
        hashed = self.hasher.hash(check_password(password))
        self._must(name)
        with connect(self.path) as db:
            db.execute("UPDATE users SET password_hash = ?, epoch = epoch + 1, failures = 0, locked_until = 0 "
                       "WHERE name = ?", (hashed, name))
        return self._must(name)

    # ------------------------------------------------------------------ signing in
    def authenticate(self, name: str, password: str, now: float | None = None) -> User:
        """The user with this name and password, or ``SignInRefused`` saying why not."""
        now = time.time() if now is None else now
        wrong = SignInRefused("Wrong user name or password.")
        password = password[:MAX_PASSWORD + 1]
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            self._verify(self._dummy_hash, password)
            raise wrong
        if row["locked_until"] > now:
            minutes = max(1, round((row["locked_until"] - now) / 60))
            raise SignInRefused(f"Too many failed sign-ins: this account is locked for {minutes} more "
                                "minute(s). An admin can unlock it by setting a new password.")
        if not self._verify(row["password_hash"], password):
            with connect(self.path) as db:
                failures = row["failures"] + 1
                if failures >= MAX_FAILURES:
                    db.execute("UPDATE users SET failures = 0, locked_until = ? WHERE id = ?",
                               (now + LOCK_SECONDS, row["id"]))
                else:
                    db.execute("UPDATE users SET failures = ? WHERE id = ?", (failures, row["id"]))
            raise wrong
        if row["disabled"]:
            raise SignInRefused("This account is disabled; ask an admin.")
        with connect(self.path) as db:
            db.execute("UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?", (row["id"],))
            if self.hasher.check_needs_rehash(row["password_hash"]):
                db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (self.hasher.hash(password), row["id"]))
        return _user(row)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    # ------------------------------------------------------------------ the web's secret
    def session_key(self) -> bytes:
        """The key session cookies are signed with, made once and kept, so restarting the
        server does not sign everyone out."""
        with connect(self.path) as db:
            row = db.execute("SELECT value FROM secrets WHERE name = 'session_key'").fetchone()
            if row is not None:
                return bytes(row["value"])
            key = secrets.token_bytes(32)
            db.execute("INSERT INTO secrets (name, value) VALUES ('session_key', ?)", (key,))
            return key

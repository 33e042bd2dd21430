"""Signed session cookies and CSRF tokens.

A session cookie is ``<session id>.<user id>.<user epoch>.<issued>.<mac>``: a random session id
and the signed-in user, signed with HMAC-SHA256, so the server keeps no session table and a
forged or edited cookie is refused. The user's epoch changes when their password, role or
status changes, which ends their old sessions. The key is kept in the database
(``UserStore.session_key``), so a restart signs nobody out.

Every comparison of a secret is constant-time (``hmac.compare_digest`` on bytes: on ``str``
it raises for non-ASCII input, which an attacker controls).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

__all__ = [
    "SESSION_COOKIE",
    "CSRF_COOKIE",
    "SESSION_MAX_AGE",
    "Session",
    "SessionSigner",
    "same_secret",
    "safe_next_path",
]

SESSION_COOKIE = "ecm_session"
CSRF_COOKIE = "ecm_signin_csrf"  # only for the sign-in form, before there is a session
SESSION_MAX_AGE = 12 * 3600  # seconds: a working day, then the password is asked for again


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two secrets (False for a missing or empty one)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Session:
    id: str
    user_id: int
    epoch: int
    issued_at: int  # unix seconds


class SessionSigner:
    """Makes and checks session cookies and the CSRF tokens bound to them."""

    def __init__(self, key: bytes | None = None, max_age: int = SESSION_MAX_AGE):
        self._key = key or secrets.token_bytes(32)
        self.max_age = max_age

    def _mac(self, purpose: str, message: str) -> str:
        # The purpose keeps a MAC made for one use (a cookie) from being valid for another (CSRF).
        return _b64(hmac.new(self._key, f"{purpose}\n{message}".encode(), hashlib.sha256).digest())

    def new_cookie(self, user_id: int, epoch: int) -> str:
        session_id = secrets.token_urlsafe(24)
        payload = f"{session_id}.{int(user_id)}.{int(epoch)}.{int(time.time())}"
        return f"{payload}.{self._mac('session', payload)}"

    def read_cookie(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None if it is missing, forged, or too old."""
        if not value or value.count(".") != 4:
            return None
        session_id, user_id, epoch, issued, mac = value.split(".")
        if not same_secret(mac, self._mac("session", f"{session_id}.{user_id}.{epoch}.{issued}")):
            return None
        if not (user_id.isdigit() and epoch.isdigit() and issued.isdigit()):
            return None
        if time.time() - int(issued) > self.max_age:
            return None
        return Session(id=session_id, user_id=int(user_id), epoch=int(epoch), issued_at=int(issued))

    def csrf_token(self, session: Session) -> str:
        """The token that forms of this session must send back (every POST after sign-in)."""
        return self._mac("csrf", session.id)

    def check_csrf(self, session: Session | None, token: str | None) -> bool:
        return session is not None and same_secret(token, self.csrf_token(session))


def safe_next_path(value: str | None) -> str:
    """Where to go after signing in: only a local path (no open redirect to another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    return value

"""The sign-in gate in front of every page and API route, and the sign-in/out forms.

- Without a valid session, a page (GET) redirects to ``/signin?next=<the page>``; API routes
  and POSTs answer 401. ``/healthz``, ``/signin`` and ``/static/`` are open.
- The sign-in form is CSRF-protected by a double-submit cookie (there is no session yet);
  a successful sign-in starts a new session (a new id: no session fixation).
- Failures are limited twice: per account (``UserStore``: locked after ``MAX_FAILURES``) and
  per client address (``FailureLimiter``), so guessing many names from one place is slowed too.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ecm.errors import EcmError
from web.access import EVERYONE, csrf_checked, require
from web.auth import CSRF_COOKIE, SESSION_COOKIE, safe_next_path, same_secret
from web.context import context_of, is_api_path
from web.users import Role, SignInRefused, User

__all__ = ["router", "require_session", "signin_page", "FailureLimiter", "home_for", "OPEN_PATHS"]

router = APIRouter()

OPEN_PATHS = {"/healthz", "/signin"}


class FailureLimiter:
    """At most ``limit`` failed sign-ins per client address in ``window`` seconds."""

    def __init__(self, limit: int = 20, window: float = 15 * 60):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                self._failures.clear()
            self._recent(key, time.monotonic()).append(time.monotonic())


def home_for(user: User) -> str:
    """Where a user lands after signing in: the first page their role can use."""
    return {Role.mailroom: "/mailroom", Role.reviewer: "/review", Role.coder: "/coding"}.get(user.role, "/")


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith("/static/")


def _cookie_options(request: Request) -> dict:
    # SameSite=Strict: the browser never sends the session along with another site's request.
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}


def signin_page(request: Request, next_path: str, error: str | None = None, status: int = 200,
                name: str = "") -> Response:
    ctx = context_of(request)
    csrf = secrets.token_urlsafe(24)
    response = ctx.templates.TemplateResponse(
        request, "signin.html",
        {"next_path": safe_next_path(next_path), "signin_csrf": csrf, "error": error, "name": name},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=3600, **_cookie_options(request))
    return response


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _not_signed_in(request: Request) -> Response:
    if is_api_path(request.url.path):
        return JSONResponse({"error": "not signed in: sign in at /signin, then send the session cookie"},
                            status_code=401)
    if request.method in ("GET", "HEAD"):
        return RedirectResponse("/signin?" + urlencode({"next": _here(request)}), status_code=303)
    return signin_page(request, "/", "You are not signed in (or your session ended). Please sign in.", status=401)


async def require_session(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """HTTP middleware: let a request through only with a valid session of an active user."""
    if _is_open(request.url.path):
        return await call_next(request)
    ctx = context_of(request)
    session = ctx.signer.read_cookie(request.cookies.get(SESSION_COOKIE))
    user = ctx.users.get(session.user_id) if session is not None else None
    if user is None or user.disabled or user.epoch != session.epoch:
        return _not_signed_in(request)
    request.state.session = session
    request.state.user = user
    return await call_next(request)


@router.get("/signin", include_in_schema=False)
def signin_form(request: Request, next: str = Query("/", max_length=2000)) -> Response:
    return signin_page(request, next)


@router.post("/signin", include_in_schema=False)
def signin(request: Request, name: str = Form("", max_length=200), password: str = Form("", max_length=2000),
           csrf: str = Form("", max_length=200), next: str = Form("/", max_length=2000)) -> Response:
    ctx = context_of(request)
    name = name.strip().lower()
    if not same_secret(csrf, request.cookies.get(CSRF_COOKIE, "")):
        return signin_page(request, next, "The form had expired. Please sign in again.", status=403, name=name)
    client = request.client.host if request.client else "unknown"
    limiter: FailureLimiter = request.app.state.signin_limiter
    if limiter.blocked(client):
        return signin_page(request, next, "Too many failed sign-ins from this computer; wait a few minutes.",
                           status=429, name=name)
    try:
        user = ctx.users.authenticate(name, password)
    except SignInRefused as err:
        limiter.failed(client)
        ctx.archive.audit_action(f"user:{name}"[:80], "signin-failed", None, reason=str(err), client=client)
        return signin_page(request, next, str(err), status=401, name=name)
    ctx.archive.audit_action(user.actor, "signin", None, client=client)
    target = safe_next_path(next)
    response = RedirectResponse(home_for(user) if target == "/" else target, status_code=303)
    response.set_cookie(SESSION_COOKIE, ctx.signer.new_cookie(user.id, user.epoch),
                        max_age=ctx.signer.max_age, **_cookie_options(request))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/signout", include_in_schema=False,
             dependencies=[Depends(require(*EVERYONE)), Depends(csrf_checked)])
def signout(request: Request) -> Response:
    user: User = request.state.user
    try:
        context_of(request).archive.audit_action(user.actor, "signout", None)
    except EcmError:
        pass  # signing out must work even when the store is unwell
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

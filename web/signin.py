"""The sign-in gate in front of every page and API route, and the sign-in/out forms.

- ``GET any-page?token=RIGHT`` sets the session cookie and redirects to the same URL without
  the token (so it does not linger in the address bar, history or bookmarks).
- Without a valid session, pages answer 401 with a small sign-in form (POST, CSRF-protected
  by a double-submit cookie); API routes answer 401 JSON.
- ``/healthz`` and ``/static/`` are open: monitors and the sign-in page's CSS need them.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web.auth import CSRF_COOKIE, SESSION_COOKIE, safe_next_path, same_secret, url_without_token
from web.context import context_of, is_api_path
from web.errors import error_response

__all__ = ["router", "require_session", "signin_page"]

router = APIRouter()

OPEN_PATHS = {"/healthz", "/signin"}


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith("/static/")


def _cookie_options(request: Request) -> dict:
    # SameSite=Strict: the browser never sends the session along with another site's request.
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}


def _start_session(request: Request, response: Response) -> Response:
    response.set_cookie(SESSION_COOKIE, context_of(request).signer.new_cookie(), **_cookie_options(request))
    return response


def signin_page(request: Request, next_path: str, error: str | None = None, status: int = 401) -> Response:
    ctx = context_of(request)
    csrf = secrets.token_urlsafe(24)
    response = ctx.templates.TemplateResponse(
        request, "signin.html", {"next_path": safe_next_path(next_path), "csrf": csrf, "error": error},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, csrf, **_cookie_options(request))
    return response


def _not_signed_in(request: Request, error: str | None = None) -> Response:
    if is_api_path(request.url.path):
        message = error or "not signed in: open the link `ecm serve` printed, then send its session cookie"
        return JSONResponse({"error": message}, status_code=401)
    return signin_page(request, url_without_token(request.url), error)


async def require_session(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """HTTP middleware: let a request through only with a valid session (or to an open path)."""
    if _is_open(request.url.path):
        return await call_next(request)
    ctx = context_of(request)
    given = request.query_params.get("token")
    if given is not None and request.method in ("GET", "HEAD"):
        if same_secret(given, ctx.token):
            return _start_session(request, RedirectResponse(url_without_token(request.url), status_code=303))
        return _not_signed_in(request, "That sign-in token is not right. Copy the whole link `ecm serve` printed.")
    session = ctx.signer.read_cookie(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return _not_signed_in(request)
    request.state.session = session
    return await call_next(request)


@router.post("/signin", include_in_schema=False)
def signin(request: Request, token: str = Form(""), csrf: str = Form(""), next: str = Form("/")) -> Response:
    if not same_secret(csrf, request.cookies.get(CSRF_COOKIE, "")):
        return signin_page(request, next, "The form had expired. Please paste the token again.", status=403)
    if not same_secret(token.strip(), context_of(request).token):
        return signin_page(request, next, "That token is not right. It is the part after ?token= in the link.")
    response = _start_session(request, RedirectResponse(safe_next_path(next), status_code=303))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/signout", include_in_schema=False)
def signout(request: Request, csrf: str = Form("")) -> Response:
    if not context_of(request).signer.check_csrf(request.state.session, csrf):
        return error_response(request, 403, "The sign-out form had expired; reload the page and try again.")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

"""Security headers on every response, and a last-resort 500 that never shows a traceback.

A plain ASGI middleware rather than ``@app.middleware("http")``: it sees every response
(redirects, 401s, static files, errors), and it can catch an unexpected exception and answer
with one line, which Starlette's own last-resort handler would do without our headers.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "SecurityHeadersMiddleware"]

log = logging.getLogger("ecm.web")

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # the sign-in link carries a token: never pass URLs on
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # Document pages and API answers hold archive content: keep them out of shared caches
        # and the browser's disk cache unless a route says otherwise (page images, static files).
        default_cache = None if scope["path"].startswith("/static/") else "no-store"

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if default_cache and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", default_cache.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error serving %s", scope.get("path"))
            if started:
                raise  # too late for a clean answer; the server closes the connection
            body = b"Internal error: the server could not answer this request; see the server log.\n"
            await send_with_headers({
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())],
            })
            await send_with_headers({"type": "http.response.body", "body": body})

"""What every route needs, injected once by ``create_app`` (no module globals), and the one
thing the web UI needs from a search index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ecm.config import Config
from store import Archive
from web.auth import SessionSigner
from web.documents import PageSourceCache

__all__ = ["SearchIndex", "WebContext", "context_of", "is_api_path"]


class SearchIndex(Protocol):
    """The part of ``search.Index`` the UI uses, so tests can pass a small fake.

    ``search`` returns SearchHits (``total``, ``took_ms``, ``hits``) and raises
    ``ecm.errors.QuerySyntaxError`` on a query it cannot parse.
    """

    def search(self, query: str, limit: int = 10, offset: int = 0) -> Any: ...


@dataclass
class WebContext:
    config: Config
    archive: Archive
    index: SearchIndex
    token: str  # the sign-in token printed at start-up
    templates: Jinja2Templates
    signer: SessionSigner = field(default_factory=SessionSigner)
    page_sources: PageSourceCache = field(default_factory=PageSourceCache)


def context_of(request: Request) -> WebContext:
    return request.app.state.ecm


def is_api_path(path: str) -> bool:
    """Routes answered in JSON (errors included) rather than HTML."""
    return path.startswith("/api/") or path in ("/api", "/openapi.json", "/healthz")

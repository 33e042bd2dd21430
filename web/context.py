"""What every route needs, injected once by ``create_app`` (no module globals), and the one
thing the web UI needs from a search index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ecm.config import Config
from store import Archive
from web.auth import SessionSigner
from web.documents import PageSourceCache
from web.users import UserStore

if TYPE_CHECKING:
    from web.batches import BatchStore
    from web.reviews import ReviewLog
    from web.worker import BatchWorker

__all__ = ["SearchIndex", "WebContext", "context_of", "is_api_path"]


class SearchIndex(Protocol):
    """The part of ``search.Index`` the UI uses, so tests can pass a small fake.

    ``search`` returns SearchHits (``total``, ``took_ms``, ``hits``) and raises
    ``ecm.errors.QuerySyntaxError`` on a query it cannot parse; ``add`` (re)indexes documents
    (after a review correction, and by the mailroom's ingest).
    """

    def search(self, query: str, limit: int = 10, offset: int = 0) -> Any: ...

    def add(self, docs: Any) -> None: ...


@dataclass
class WebContext:
    config: Config
    archive: Archive
    index: SearchIndex
    users: UserStore
    batches: "BatchStore"
    reviews: "ReviewLog"
    worker: "BatchWorker"
    templates: Jinja2Templates
    signer: SessionSigner
    page_sources: PageSourceCache = field(default_factory=PageSourceCache)


def context_of(request: Request) -> WebContext:
    return request.app.state.ecm


def is_api_path(path: str) -> bool:
    """Routes answered in JSON (errors included) rather than HTML."""
    return path.startswith("/api/") or path in ("/api", "/openapi.json", "/healthz")

"""The JSON API: search, document records, health. Errors are ``{"error": "..."}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder

from ecm import __version__
from web.access import READERS, current_user, require
from web.context import context_of
from web.documents import load_document
from web.finding import SORTS, run_search, supports_facets

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", summary="Liveness check (no sign-in needed)")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/api/search", summary="Search (the same query language as `ecm search`)",
            dependencies=[Depends(require(*READERS))])
def api_search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=1000, description="Query, e.g. vendor:acme amount:>100"),
    limit: int = Query(10, ge=1, le=100, description="Hits to return"),
    offset: int = Query(0, ge=0, le=100_000, description="Hits to skip (paging)"),
    sort: str = Query("relevance", pattern="^(" + "|".join(SORTS) + ")$",
                      description="relevance, date_desc, date_asc, amount_desc or amount_asc"),
    facets: bool = Query(False, description="Also count the matches by doc_type, vendor, year and tags"),
) -> Any:
    """SearchHits: ``total``, ``took_ms``, ``hits`` (id, sha256, source, doc_type, score,
    snippet, page, fields); with ``facets=1`` also ``facets``: ``{"doc_type": [["invoice", 12],
    ...], "vendor": [...], "year": [...], "tags": [...]}``. Sorted by date or amount, documents
    without one come last. A query that cannot be parsed answers 400 with the reason."""
    index = context_of(request).index
    result = jsonable_encoder(run_search(index, q, limit, offset, sort))
    if facets:
        result["facets"] = jsonable_encoder(index.facets(q, size=10)) if supports_facets(index) else {}
    return result


@router.get("/api/documents/{doc_id}", summary="A document's record", dependencies=[Depends(require(*READERS))])
def api_document(
    request: Request,
    doc_id: str,
    words: bool = Query(False, description="Include every page's words with boxes (large)"),
) -> Any:
    """The latest version of the record. Pages come without their words unless ``words=1``."""
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    ctx.archive.audit_action(current_user(request).actor, "view", doc.id, via="api")
    record = doc.model_dump(mode="json", exclude=None if words else {"pages": {"__all__": {"words"}}})
    record["versions"] = ctx.archive.versions(doc.id or "")
    return record

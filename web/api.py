"""The JSON API: search, document records, health. Errors are ``{"error": "..."}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder

from ecm import __version__
from web.context import context_of
from web.documents import load_document

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", summary="Liveness check (no sign-in needed)")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/api/search", summary="Search (the same query language as `ecm search`)")
def api_search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=1000, description="Query, e.g. vendor:acme amount:>100"),
    limit: int = Query(10, ge=1, le=100, description="Hits to return"),
    offset: int = Query(0, ge=0, le=100_000, description="Hits to skip (paging)"),
) -> Any:
    """SearchHits: ``total``, ``took_ms``, ``hits`` (id, sha256, source, doc_type, score,
    snippet, page, fields). A query that cannot be parsed answers 400 with the reason."""
    result = context_of(request).index.search(q, limit=limit, offset=offset)
    return jsonable_encoder(result)


@router.get("/api/documents/{doc_id}", summary="A document's record")
def api_document(
    request: Request,
    doc_id: str,
    words: bool = Query(False, description="Include every page's words with boxes (large)"),
) -> Any:
    """The latest version of the record. Pages come without their words unless ``words=1``."""
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    ctx.archive.audit_action("web", "view", doc.id, via="api")
    record = doc.model_dump(mode="json", exclude=None if words else {"pages": {"__all__": {"words"}}})
    record["versions"] = ctx.archive.versions(doc.id or "")
    return record

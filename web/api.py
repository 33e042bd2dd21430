"""The JSON API: search, document records and their tags, health. Errors are ``{"error": "..."}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from ecm import __version__
from ecm.tags import TagError, tag_document
from web.access import READERS, csrf_checked, current_user, require
from web.context import context_of
from web.documents import load_document
from web.finding import SORTS, run_search, supports_facets
from web.views import TAGGERS

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
    facets: bool = Query(False, description="Also count the matches by doc_type, vendor, year, tags and review"),
) -> Any:
    """SearchHits: ``total``, ``took_ms``, ``hits`` (id, sha256, source, doc_type, score,
    snippet, page, fields); with ``facets=1`` also ``facets``: ``{"doc_type": [["invoice", 12],
    ...], "vendor": [...], "year": [...], "tags": [...], "review": [...]}``. Sorted by date or amount, documents
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


@router.get("/api/documents/{doc_id}/tags", summary="A document's tags", dependencies=[Depends(require(*READERS))])
def api_tags(request: Request, doc_id: str) -> Any:
    """``{"id", "version", "tags"}`` of the latest version."""
    doc = load_document(context_of(request).archive, doc_id)
    return {"id": doc.id, "version": doc.version, "tags": doc.tags}


def _tag_list(body: dict, key: str) -> list[str]:
    value = body.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TagError(f'"{key}" must be a list of tags, e.g. {{"{key}": ["urgent", "audit-2026"]}}')
    return value


@router.post("/api/documents/{doc_id}/tags", summary="Add or remove a document's tags",
             dependencies=[Depends(require(*TAGGERS)), Depends(csrf_checked)])
async def api_set_tags(request: Request, doc_id: str) -> Any:
    """JSON body ``{"add": ["urgent"], "remove": ["draft"]}`` (either may be left out), with the
    session's CSRF token in the ``X-CSRF-Token`` header. Answers ``{"id", "version", "tags",
    "added", "removed"}``; a change is a new record version and a ``tag`` audit event. A bad tag
    answers 400 with the reason, and nothing changes."""
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": 'send a JSON object such as {"add": ["urgent"], "remove": ["draft"]} '
                                      "with content-type application/json"}, status_code=400)
    try:
        saved, added, removed = tag_document(ctx.archive, ctx.index, doc, _tag_list(body, "add"),
                                             _tag_list(body, "remove"), actor=current_user(request).actor)
    except TagError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return {"id": saved.id, "version": saved.version, "tags": saved.tags, "added": added, "removed": removed}

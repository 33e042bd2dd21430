"""The HTML pages: search, query help, the document view (with its tags), downloads and page images.

Templates are autoescaped; the only ``|safe`` output is a search hit's snippet, which the
index hands over already escaped (with hits wrapped in ``<mark>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ecm.document import FIELD_NAMES, Document, FieldValue
from ecm.errors import NotFound, QuerySyntaxError
from ecm.tags import TagError, split_tags, tag_document
from search.review_state import review_state
from web.access import ADMINS, EVERYONE, READERS, REVIEWERS, csrf_checked, current_user, may, require
from web.context import context_of
from web.documents import PDF, is_doc_id, load_document
from web.files import content_disposition, download_media_type, download_name
from web.finding import REVIEW_LABELS, SORTS, facet_groups, hit_boxes, run_search, supports_facets, supports_sort
from web.page_images import OverlayBox, overlay_box, render_image_page, render_pdf_page

__all__ = ["router", "PAGE_SIZE"]

router = APIRouter()
readers = [Depends(require(*READERS))]
# Everyone who reads documents may label them (clerks, coders, reviewers, admins; not the mailroom).
TAGGERS = READERS
taggers = [Depends(require(*TAGGERS)), Depends(csrf_checked)]

PAGE_SIZE = 20  # search hits per page
# Fields worth a glance in a result list, in this order.
SUMMARY_FIELDS = ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency",
                  "title", "parties", "effective_date")


def _as_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class HitView:
    id: str
    link: str | None  # None when the index returned something that is not a document id
    name: str
    source: str
    doc_type: str
    score: float
    snippet: str  # already HTML-safe (from the index)
    page: int | None
    summary: list[tuple[str, str]]
    hit_link: str | None = None
    tags: list[str] = dataclass_field(default_factory=list)


def _hit_view(hit: Any, query: str = "") -> HitView:
    doc_id = str(getattr(hit, "id", "") or "")
    source = str(getattr(hit, "source", "") or "")
    fields = getattr(hit, "fields", None) or {}
    return HitView(
        id=doc_id,
        link=f"/doc/{doc_id}" if is_doc_id(doc_id) else None,
        # The snippet's "on page N" links to the view with the hit words marked.
        hit_link=f"/doc/{doc_id}?{urlencode({'q': query})}" if is_doc_id(doc_id) and query else None,
        name=download_name(source, fallback=doc_id or "(no name)"),
        source=source,
        doc_type=str(getattr(hit, "doc_type", None) or "unknown"),
        score=float(getattr(hit, "score", 0.0) or 0.0),
        snippet=str(getattr(hit, "snippet", "") or ""),
        page=getattr(hit, "page", None),
        summary=[(name, _as_text(fields[name])) for name in SUMMARY_FIELDS if fields.get(name)],
        tags=[str(t) for t in (getattr(hit, "tags", None) or [])],
    )


@router.get("/", response_class=HTMLResponse, summary="Search page", dependencies=readers)
def search_page(
    request: Request,
    q: str = Query("", max_length=1000, description="Query (see /help)"),
    offset: int = Query(0, ge=0, le=100_000),
    sort: str = Query("relevance", pattern="^(" + "|".join(SORTS) + ")$", description="Order of the hits"),
) -> Response:
    ctx = context_of(request)
    query = q.strip()
    result = error = None
    facets: list = []
    if query:
        try:
            result = run_search(ctx.index, query, PAGE_SIZE, offset, sort)
            if supports_facets(ctx.index) and result.total:
                facets = facet_groups(ctx.index.facets(query, size=8), query, sort)
        except QuerySyntaxError as err:
            error = str(err).strip().splitlines()[0] if str(err).strip() else "The query could not be read."
    hits = [_hit_view(h, query) for h in result.hits] if result is not None else []
    total = int(result.total) if result is not None else 0
    return ctx.templates.TemplateResponse(request, "search.html", {
        "q": query,
        "error": error,
        "searched": result is not None,
        "hits": hits,
        "total": total,
        "took_ms": float(getattr(result, "took_ms", 0.0) or 0.0) if result is not None else 0.0,
        "first": offset + 1,
        "last": offset + len(hits),
        "prev_offset": max(0, offset - PAGE_SIZE) if offset > 0 else None,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "sort": sort,
        "sorts": SORTS if supports_sort(ctx.index) else {},
        "facets": facets,
        "page_params": {"q": query, **({"sort": sort} if sort != "relevance" else {})},
    })


@router.get("/help", response_class=HTMLResponse, summary="Query language help", dependencies=readers)
def help_page(request: Request) -> Response:
    return context_of(request).templates.TemplateResponse(request, "help.html", {})


# The document view ---------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRow:
    name: str
    value: str
    confidence: float
    page: int | None
    source: str
    box: OverlayBox | None
    read_as: str | None = None  # what OCR read, when a known or agreed spelling replaced it


@dataclass(frozen=True)
class PageView:
    number: int
    text: str
    source: str  # "text" layer, "ocr" or "none"
    image_url: str
    overlays: list[FieldRow]
    hits: list[OverlayBox] = dataclass_field(default_factory=list)  # words the search looked for


def _field_order(name: str) -> tuple[int, str]:
    return (FIELD_NAMES.index(name) if name in FIELD_NAMES else len(FIELD_NAMES), name)


def _field_rows(doc: Document) -> list[FieldRow]:
    pages = {p.number: p for p in doc.pages}
    rows = []
    for name in sorted(doc.fields, key=_field_order):
        field: FieldValue = doc.fields[name]
        page = pages.get(field.page) if field.page is not None else None
        rows.append(FieldRow(
            name=name, value=_as_text(field.value), confidence=max(0.0, min(1.0, field.confidence)),
            page=field.page, source=field.source, box=overlay_box(field.bbox, page) if page else None,
            read_as=field.read_as,
        ))
    return rows


def _has_pdf(request: Request, doc: Document) -> bool:
    return doc.media_type == PDF or context_of(request).page_sources.get(context_of(request).archive, doc).kind == "pdf"


@router.get("/doc/{doc_id}", response_class=HTMLResponse, summary="Document view", dependencies=readers)
def document_page(request: Request, doc_id: str,
                  q: str = Query("", max_length=1000, description="The search that led here (its words are marked)")
                  ) -> Response:
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    ctx.archive.audit_action(current_user(request).actor, "view", doc.id)
    return _document_response(request, doc, q)


def _document_response(request: Request, doc: Document, q: str = "", *, tag_error: str = "", tag_input: str = "",
                       status: int = 200) -> Response:
    ctx = context_of(request)
    user = current_user(request)
    rows = _field_rows(doc)
    marked = hit_boxes(doc, q)
    pages = [
        PageView(
            number=p.number, text=p.text, source=p.source,
            image_url=f"/doc/{doc.id}/page/{p.number}.png",
            overlays=[r for r in rows if r.page == p.number and r.box is not None],
            hits=marked.get(p.number, []),
        )
        for p in doc.pages
    ]
    state = review_state(doc, ctx.config.review.threshold) if doc.status == "ok" else ""
    return ctx.templates.TemplateResponse(request, "document.html", {
        "doc": doc,
        "name": download_name(doc.source, fallback=doc.id or "document"),
        "fields": rows,
        "pages": pages,
        "versions": len(ctx.archive.versions(doc.id or "")),
        "has_pdf": _has_pdf(request, doc),
        "review_threshold": ctx.config.review.threshold,
        "review_state": state,
        "review_label": REVIEW_LABELS.get(state, state),
        "may_review": may(user, REVIEWERS),
        "q": q.strip(),
        "hit_count": sum(len(boxes) for boxes in marked.values()),
        # Tags: anyone who reads documents may add and remove them (TAGGERS).
        "may_tag": may(user, TAGGERS),
        "tag_error": tag_error,
        "tag_input": tag_input,
        "tagged": request.query_params.get("tagged") == "1",
        # Legal hold and retention: shown to admins, who can change them here.
        "records": ctx.archive.holds(doc.id or "") if may(user, ADMINS) else None,
        "saved": request.query_params.get("saved", "") if may(user, ADMINS) else "",
    }, status_code=status)


@router.post("/doc/{doc_id}/tags", summary="Add or remove tags (form)", dependencies=taggers)
async def document_tags(request: Request, doc_id: str) -> Response:
    """Form fields ``add`` (tags separated by commas) and ``remove`` (one tag, from its button).
    Each change is a new record version and a ``tag`` audit event; the document is re-indexed."""
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    form = await request.form()
    add_text = form.get("add") if isinstance(form.get("add"), str) else ""
    remove = [v for v in form.getlist("remove") if isinstance(v, str)]
    try:
        saved, _, _ = tag_document(ctx.archive, ctx.index, doc, split_tags(add_text), remove,
                                   actor=current_user(request).actor)
    except TagError as err:
        return _document_response(request, doc, tag_error=str(err), tag_input=add_text[:200], status=400)
    return RedirectResponse(f"/doc/{saved.id}?tagged=1#tags", status_code=303)


@router.get("/doc/{doc_id}/original", summary="Download the original file", dependencies=readers)
def download_original(request: Request, doc_id: str) -> Response:
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    data = ctx.archive.get_original(doc.sha256)  # checked against its sha256 on the way out
    ctx.archive.audit_action(current_user(request).actor, "download", doc.id, what="original")
    return Response(data, media_type=download_media_type(doc.media_type), headers={
        "content-disposition": content_disposition(download_name(doc.source, fallback=f"{doc.id}.bin")),
    })


@router.get("/doc/{doc_id}/pdf", summary="Download the searchable PDF", dependencies=readers)
def download_pdf(request: Request, doc_id: str) -> Response:
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    name = download_name(doc.source, fallback=doc.id or "document")
    data = ctx.archive.searchable_pdf(doc.id or "")
    if data:
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = f"{stem}.searchable.pdf"
    elif doc.media_type == PDF:
        data = ctx.archive.get_original(doc.sha256)
    else:
        raise NotFound("This document has no PDF (it was an image with no text to OCR); download the original.")
    ctx.archive.audit_action(current_user(request).actor, "download", doc.id, what="pdf")
    return Response(data, media_type=PDF, headers={"content-disposition": content_disposition(name)})


@router.get("/doc/{doc_id}/page/{number:int}.png", summary="One page as a PNG image", dependencies=readers)
def page_image(request: Request, doc_id: str, number: int) -> Response:
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    if not 1 <= number <= max(1, len(doc.pages)):
        raise NotFound(f"Document {doc.id} has no page {number}.")
    source = ctx.page_sources.get(ctx.archive, doc)
    if source.kind == "pdf":
        png = render_pdf_page(source.data, number)
    else:
        page = next((p for p in doc.pages if p.number == number), None)
        png = render_image_page(source.data, number, page)
    # Pages of a stored version never change; a private cache saves re-rendering on revisits.
    return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=600"})


# API reference (FastAPI's /docs loads Swagger UI from a CDN, which the CSP rightly blocks) ----

@router.get("/docs", response_class=HTMLResponse, summary="HTTP API reference",
            dependencies=[Depends(require(*EVERYONE))])
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    routes = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = [(p.get("name", ""), p.get("in", ""), bool(p.get("required")), p.get("description", ""))
                      for p in op.get("parameters", [])]
            routes.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                           "description": (op.get("description") or "").strip(), "params": params})
    return context_of(request).templates.TemplateResponse(request, "api_docs.html", {"routes": routes})


@router.get("/openapi.json", summary="The API description (OpenAPI 3)", dependencies=[Depends(require(*EVERYONE))])
def openapi_json(request: Request) -> Response:
    return JSONResponse(request.app.openapi())

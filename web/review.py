"""Review: the queue of documents a person should check, and the review page where a
reviewer corrects fields (typing, or clicking words on the page image) and accepts.

The queue is a search for ``review:needs-review``: the index keeps each document's review state
(``search.review_state``, computed when it is indexed with the configured threshold), so the
queue costs one query and a page of records however large the archive is. After the threshold
changes, ``ecm reindex`` recomputes the state of the documents already indexed.

Each save is a new record version (``archive.save(..., action="edit")``) whose corrected
values have ``source="user:<name>"`` and confidence 1.0; the document is re-indexed at once,
and each correction is appended to ``ECM_HOME/training/corrections.jsonl`` as training data
for the extractors. Accepting also confirms the values left as they were (confidence 1.0, set
by the reviewer) and records the acceptance in the record (``Document.accepted``), which takes
the document out of the queue; saving corrections without accepting clears an earlier one.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecm.pipeline import learn_vendor
from ecm.document import (
    CONTRACT_FIELDS, DOC_TYPES, FIELD_NAMES, INVOICE_FIELDS, Acceptance, DocType, Document, FieldValue, utcnow,
)
from extract.review import needs_review
from search.review_state import QUEUE_QUERY, queued
from web.access import REVIEWERS, csrf_checked, current_user, require
from web.context import context_of
from web.documents import is_doc_id, load_document
from web.files import download_name

__all__ = ["router", "needs_review", "review_queue", "QueueEntry", "QueuePage", "QUEUE_QUERY", "apply_corrections",
           "Correction"]

router = APIRouter()
reviewers = Depends(require(*REVIEWERS))
QUEUE_PAGE = 50  # entries per page of the queue
QUEUE_MAX_OFFSET = 9_950  # deeper than 10,000 entries: narrow the queue with a search instead
# The indexed state is older than the threshold now in force (``ecm reindex`` recomputes it).
STALE_REASON = ("nothing at the current threshold; the index computed its review state with another one "
                "(run `ecm reindex`)")

_DATE_FIELDS = {"invoice_date", "due_date", "effective_date"}
_AMOUNT_FIELDS = {"total_amount", "tax_amount"}
_AMOUNT = re.compile(r"^-?\d{1,15}(\.\d{1,4})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TERM = re.compile(r"^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")
_training_lock = threading.Lock()


@dataclass(frozen=True)
class QueueEntry:
    id: str
    name: str
    doc_type: str
    confidence: float | None
    reasons: list[str]


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    total: int  # documents the index holds as needing review


def review_queue(index: Any, archive: Any, threshold: float, offset: int = 0, limit: int = QUEUE_PAGE) -> QueuePage:
    """One page of the documents the index holds as ``review:needs-review``, with the reasons
    read from their records at ``threshold`` (``search.review_state.queued``)."""
    page, total = queued(index, archive, threshold, offset, limit)
    entries = [QueueEntry(
        id=doc.id or "", name=download_name(doc.source, fallback=doc.id or ""),
        doc_type=doc.doc_type.label if doc.doc_type else "unclassified",
        confidence=doc.doc_type.confidence if doc.doc_type else None,
        reasons=reasons or [STALE_REASON]) for doc, reasons in page]
    return QueuePage(entries=entries, total=total)


def fields_to_review(doc: Document) -> list[str]:
    """The fields the review form shows: the document type's canonical ones, then any other."""
    label = doc.doc_type.label if doc.doc_type else None
    wanted = INVOICE_FIELDS if label in ("invoice", "receipt") else CONTRACT_FIELDS if label == "contract" else ()
    rest = sorted((n for n in doc.fields if n not in wanted),
                  key=lambda n: (FIELD_NAMES.index(n) if n in FIELD_NAMES else len(FIELD_NAMES), n))
    return [*wanted, *rest]


def as_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def check_value(name: str, value: str) -> str | None:
    """Why ``value`` is not a valid ``name``, or None."""
    if not value:
        return None
    if name in _DATE_FIELDS:
        try:
            date.fromisoformat(value)
            if len(value) == 10:
                return None
        except ValueError:
            pass
        return f"{name}: write dates as YYYY-MM-DD (for example 2024-03-31), not {value!r}"
    if name in _AMOUNT_FIELDS and not _AMOUNT.fullmatch(value):
        return f"{name}: write amounts as plain decimals (for example 1234.50), not {value!r}"
    if name == "currency" and not _CURRENCY.fullmatch(value):
        return f"currency: use a three-letter code such as USD or EUR, not {value!r}"
    if name == "term" and not _TERM.fullmatch(value):
        return f"term: use an ISO-8601 duration such as P2Y or P18M, not {value!r}"
    if len(value) > 2000:
        return f"{name}: the value is too long"
    return None


@dataclass(frozen=True)
class Correction:
    field: str
    old: Any
    new: Any
    page: int | None
    bbox: tuple[float, float, float, float] | None


def _page_and_box(doc: Document, page: str, bbox: str) -> tuple[int | None, tuple[float, float, float, float] | None]:
    """The page and box a reviewer clicked a value from (from the form; checked against the page)."""
    if not page.isdigit():
        return None, None
    number = int(page)
    target = next((p for p in doc.pages if p.number == number), None)
    if target is None:
        return None, None
    try:
        box = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        return number, None
    if len(box) != 4 or not (0 <= box[0] <= box[2] <= target.width and 0 <= box[1] <= box[3] <= target.height):
        return number, None
    return number, box  # type: ignore[return-value]


def apply_corrections(doc: Document, form: dict[str, str], actor: str, accept: bool
                      ) -> tuple[Document, list[Correction], list[str]]:
    """The reviewed document, what changed, and the problems (nothing is applied if any)."""
    fields = dict(doc.fields)
    corrections: list[Correction] = []
    problems: list[str] = []
    for name in fields_to_review(doc):
        key = f"value.{name}"
        if key not in form:
            continue
        raw = " ".join(form[key].split())  # one line, single spaces
        old = doc.fields.get(name)
        if raw == as_text(old.value if old else None):
            if accept and old is not None and (old.confidence < 1.0 or not old.source.startswith("user:")):
                fields[name] = old.model_copy(update={"confidence": 1.0, "source": actor})
            continue
        problem = check_value(name, raw)
        if problem:
            problems.append(problem)
            continue
        value: str | list[str] = [p.strip() for p in raw.split(";") if p.strip()] if name == "parties" else raw
        page, bbox = _page_and_box(doc, form.get(f"page.{name}", ""), form.get(f"bbox.{name}", ""))
        if page is None and old is not None:
            page, bbox = old.page, old.bbox
        if raw:
            fields[name] = FieldValue(value=value, confidence=1.0, page=page, bbox=bbox, source=actor)
        else:
            fields.pop(name, None)
        corrections.append(Correction(name, old.value if old else None, value if raw else None, page, bbox))
    doc_type = doc.doc_type
    label = form.get("doc_type", "")
    if label in DOC_TYPES and (doc_type is None or label != doc_type.label):
        corrections.append(Correction("doc_type", doc_type.label if doc_type else None, label, None, None))
        doc_type = DocType(label=label, confidence=1.0, source=actor)
    elif label and label not in DOC_TYPES:
        problems.append(f"doc_type: choose one of {', '.join(DOC_TYPES)}")
    elif accept and doc_type is not None:
        doc_type = doc_type.model_copy(update={"confidence": 1.0, "source": actor})
    return doc.model_copy(update={"fields": fields, "doc_type": doc_type}), corrections, problems


def write_training(home: Path | str, doc: Document, corrections: list[Correction], actor: str) -> None:
    path = Path(home) / "training" / "corrections.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps({
        "at": utcnow().isoformat(), "doc_id": doc.id, "sha256": doc.sha256, "version": doc.version,
        "doc_type": doc.doc_type.label if doc.doc_type else None, "field": c.field, "old": c.old, "new": c.new,
        "page": c.page, "bbox": list(c.bbox) if c.bbox else None, "user": actor,
    }, ensure_ascii=False) + "\n" for c in corrections)
    with _training_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(lines)


# ----------------------------------------------------------------------------- pages


@router.get("/review", response_class=HTMLResponse, summary="Review queue", dependencies=[reviewers])
def queue_page(request: Request,
               offset: int = Query(0, ge=0, le=QUEUE_MAX_OFFSET, description="Entries to skip (paging)")) -> Response:
    ctx = context_of(request)
    page = review_queue(ctx.index, ctx.archive, ctx.config.review.threshold, offset, QUEUE_PAGE)
    done = request.query_params.get("done", "")
    last = offset + len(page.entries)
    return ctx.templates.TemplateResponse(request, "review_queue.html", {
        "entries": page.entries, "total": page.total, "threshold": ctx.config.review.threshold,
        "first": offset + 1, "last": last, "query": QUEUE_QUERY,
        "prev_offset": max(0, offset - QUEUE_PAGE) if offset > 0 else None,
        "next_offset": offset + QUEUE_PAGE if offset + QUEUE_PAGE < page.total
        and offset + QUEUE_PAGE <= QUEUE_MAX_OFFSET else None,
        "done": done if is_doc_id(done) else "",
    })


@dataclass(frozen=True)
class FormRow:
    name: str
    value: str
    confidence: float | None
    source: str
    page: int | None
    low: bool
    read_as: str | None = None  # what OCR read, when a known or agreed spelling replaced it


def _render(request: Request, doc: Document, problems: list[str] | None = None, form: dict | None = None,
            status: int = 200, saved: bool = False) -> Response:
    ctx = context_of(request)
    threshold = ctx.config.review.threshold
    rows = []
    for name in fields_to_review(doc):
        field = doc.fields.get(name)
        value = form.get(f"value.{name}", "") if form is not None else as_text(field.value if field else None)
        rows.append(FormRow(name=name, value=value, confidence=field.confidence if field else None,
                            source=field.source if field else "", page=field.page if field else None,
                            low=field is not None and field.confidence < threshold,
                            read_as=field.read_as if field else None))
    pages = [{"number": p.number, "width": p.width, "height": p.height, "words": p.words,
              "image_url": f"/doc/{doc.id}/page/{p.number}.png"} for p in doc.pages]
    return ctx.templates.TemplateResponse(request, "review.html", {
        "doc": doc, "name": download_name(doc.source, fallback=doc.id or "document"), "rows": rows, "pages": pages,
        "doc_types": DOC_TYPES, "threshold": threshold, "problems": problems or [], "saved": saved,
        "reasons": needs_review(doc, threshold),
        "chosen_type": (form or {}).get("doc_type") or (doc.doc_type.label if doc.doc_type else ""),
    }, status_code=status)


@router.get("/review/{doc_id}", response_class=HTMLResponse, summary="Review one document", dependencies=[reviewers])
def review_page(request: Request, doc_id: str) -> Response:
    ctx = context_of(request)
    doc = load_document(ctx.archive, doc_id)
    ctx.archive.audit_action(current_user(request).actor, "view", doc.id, via="review")
    return _render(request, doc, saved=request.query_params.get("saved") == "1")


@router.post("/review/{doc_id}", summary="Save corrections (and accept)",
             dependencies=[reviewers, Depends(csrf_checked)])
async def review_save(request: Request, doc_id: str) -> Response:
    """Form fields ``value.<field>`` (``page.<field>``, ``bbox.<field>`` when a value was
    clicked on the page), ``doc_type``, ``version`` (the version shown) and ``action``
    (``save`` or ``accept``)."""
    ctx = context_of(request)
    user = current_user(request)
    doc = load_document(ctx.archive, doc_id)
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    if form.get("version") != str(doc.version):
        return _render(request, doc, [f"Someone saved this document while you were reviewing it (now version "
                                      f"{doc.version}); the form shows the new values, please check them again."],
                       status=409)
    accept = form.get("action") == "accept"
    reviewed, corrections, problems = apply_corrections(doc, form, user.actor, accept)
    if problems:
        return _render(request, doc, problems, form=form, status=400)
    if not corrections and not accept:
        return RedirectResponse(f"/review/{doc.id}?saved=1", status_code=303)
    # The acceptance is part of the record (the index derives the review state from it); a later
    # correction without accepting again takes the document back to the rule.
    acceptance = Acceptance(by=user.actor, version=doc.version) if accept else None
    reviewed = reviewed.model_copy(update={"accepted": acceptance})
    saved = ctx.archive.save(reviewed, actor=user.actor, action="edit" if corrections else "accept")
    if accept:
        ctx.reviews.accept(saved.id or doc_id, saved.version, user.name)  # for the admin counts (web.reviews)
        learn_vendor(ctx.config, saved)  # later invoices of this vendor are read better
        if corrections:
            ctx.archive.audit_action(user.actor, "accept", saved.id, version=saved.version)
    ctx.index.add([saved])
    if corrections:
        write_training(ctx.config.home, saved, corrections, user.actor)
    if accept:
        return RedirectResponse(f"/review?done={saved.id}", status_code=303)
    return RedirectResponse(f"/review/{saved.id}?saved=1", status_code=303)



"""Legal coding in the browser: batches, the coding panel, QC and exports.

Who does what:
  - a *coding lead* is a user with the ``admin`` role (there is no separate lead role yet): they
    create batches from a search or a list of ids, assign a coder and a QC coder, watch the
    figures and export;
  - a *coder* (role ``coder``) codes the batches assigned to them and checks (QC) the documents
    drawn from other coders' batches for them.
Every save is a new record version (``archive.save(..., action="code")``); the values are
kept in SQLite keyed by document, that version and the coder, and an audit event ``coding``
lists the fields that changed. Opening a document to code it is audited as a view.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from ecm.document import Coding, Document
from ecm.errors import NotFound, QuerySyntaxError
from web.access import CODERS, LEADS, csrf_checked, current_user, require
from web.coding.bates import check_prefix
from web.coding.loadfiles import coding_csv, coding_json, dat_file, opt_file, privilege_log
from web.coding.production import ProductionError, export_rows, produce
from web.coding.qc import QcError, docs_per_hour, field_agreement, qc_sample, same_value
from web.coding.schema import CodingSchema, changes, load_schema, parse_form, prefill
from web.coding.store import Batch, BatchDoc, CodingStore, NewDoc
from web.coding.store import Coding as StoredCoding  # a row of the coding table, not ecm.document.Coding
from web.context import context_of
from ecm.db import database_path
from web.documents import PDF, is_doc_id, load_document
from web.files import content_disposition, download_name
from web.users import Role, User

__all__ = ["router", "install", "CODERS", "LEADS", "CodingContext"]

MAX_BATCH = 500  # documents per batch
router = APIRouter()
coders = Depends(require(*CODERS))
leads = Depends(require(*LEADS))
csrf = Depends(csrf_checked)

_EXTENSIONS = {PDF: ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif", "image/gif": ".gif",
               "image/bmp": ".bmp", "image/webp": ".webp"}


@dataclass
class CodingContext:
    store: CodingStore
    schema: CodingSchema


def install(app: FastAPI, home: Path | str, schema_path: Path | str | None = None) -> None:
    """Add the coding pages to ``app``, with their store in ``home``'s SQLite file."""
    app.state.coding = CodingContext(store=CodingStore(database_path(home)), schema=load_schema(schema_path))
    app.include_router(router)


def _coding(request: Request) -> CodingContext:
    return request.app.state.coding


def _is_lead(user: User) -> bool:
    return user.role in LEADS


def _batch_or_404(request: Request, batch_id: str) -> Batch:
    batch = _coding(request).store.batch(int(batch_id)) if batch_id.isdigit() and len(batch_id) < 12 else None
    if batch is None:
        raise NotFound(f"There is no coding batch {batch_id}.")
    return batch


def _doc_or_404(request: Request, batch: Batch, seq: str) -> BatchDoc:
    entry = _coding(request).store.doc_at(batch.id, int(seq)) if seq.isdigit() and len(seq) < 9 else None
    if entry is None:
        raise NotFound(f"Batch {batch.id} has no document {seq}.")
    return entry


def _may_see(user: User, batch: Batch, docs: list[BatchDoc] | None = None) -> bool:
    return _is_lead(user) or user.name == batch.coder or any(d.qc_coder == user.name for d in docs or [])


def _refuse(message: str) -> HTTPException:
    return HTTPException(403, message)


# ----------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class CoderFigures:
    coder: str
    coded: int
    per_hour: float | None
    qc_checked: int
    compared: int
    agreed: int

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def coder_figures(store: CodingStore, batch_id: int | None = None) -> list[CoderFigures]:
    """Per coder: documents coded, documents per hour (from save times), and the field-level
    QC agreement of their codings with the second coder's."""
    saves: dict[str, list[float]] = {}
    coded: dict[str, set[tuple[int, str]]] = {}
    for c in store.codings(batch_id, kind="code"):
        saves.setdefault(c.coder, []).append(c.saved_at)
        coded.setdefault(c.coder, set()).add((c.batch_id, c.doc_id))
    qc: dict[str, list[Any]] = {}
    for r in store.qc_results(batch_id):
        qc.setdefault(r.coder, []).append(r)
    out = []
    for coder in sorted(set(saves) | set(qc)):
        results = qc.get(coder, [])
        out.append(CoderFigures(coder=coder, coded=len(coded.get(coder, ())), per_hour=docs_per_hour(saves.get(coder, [])),
                                qc_checked=len(results), compared=sum(r.compared for r in results),
                                agreed=sum(r.agreed for r in results)))
    return out


@dataclass(frozen=True)
class DocStatus:
    doc: BatchDoc
    coded_by: str | None
    qc_state: str  # "", "waiting" (not coded yet), "to do", "to resolve", "resolved"
    agreement: float | None


def _statuses(store: CodingStore, batch: Batch, docs: list[BatchDoc]) -> list[DocStatus]:
    results = {r.doc_id: r for r in store.qc_results(batch.id)}
    out = []
    for d in docs:
        first = store.latest(batch.id, d.doc_id, ("code",))
        state, agreement = "", None
        if d.qc_coder:
            if d.doc_id in results:
                state = "resolved"
                r = results[d.doc_id]
                agreement = r.agreed / r.compared if r.compared else None
            elif first is None:
                state = "waiting"
            elif store.latest(batch.id, d.doc_id, ("qc",)) is not None:
                state = "to resolve"
            else:
                state = "to do"
        out.append(DocStatus(doc=d, coded_by=first.coder if first else None, qc_state=state, agreement=agreement))
    return out


# ----------------------------------------------------------------------------- batches


@router.get("/coding", response_class=HTMLResponse, summary="Coding: my batches (leads: every batch)",
            dependencies=[coders])
def coding_home(request: Request) -> Response:
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    lead = _is_lead(user)
    batches = coding.store.batches(None if lead else user.name)
    rows = []
    for b in batches:
        docs = coding.store.docs(b.id)
        statuses = _statuses(coding.store, b, docs)
        done = sum(1 for s in statuses if s.coded_by)
        next_seq = next((s.doc.seq for s in statuses if not s.coded_by), None)
        my_qc = [s for s in statuses if s.doc.qc_coder == user.name and s.qc_state in ("to do", "to resolve")]
        rows.append({"batch": b, "total": len(docs), "done": done, "next_seq": next_seq, "my_qc": my_qc,
                     "mine": b.coder == user.name})
    coder_names = [u.name for u in ctx.users.list() if u.role == Role.coder and not u.disabled]
    return ctx.templates.TemplateResponse(request, "coding_home.html", {
        "rows": rows, "lead": lead, "coders": coder_names, "figures": coder_figures(coding.store) if lead else [],
        "form": {"qc_share": "10", "bates_prefix": "ECM"}, "errors": [],
        "created": request.query_params.get("created", ""),
    })


def _ids_from(text: str) -> list[str]:
    return list(dict.fromkeys(t for t in text.replace(",", " ").split() if t))


@router.post("/coding/batches", summary="Create a coding batch (leads)", dependencies=[leads, csrf])
async def create_batch(request: Request) -> Response:
    """Form: ``name``, ``query`` (a search) or ``ids`` (document ids, one per line), ``coder``,
    ``qc_coder``, ``qc_share`` (percent, default 10), ``bates_prefix``, ``seed`` (optional)."""
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    raw = await request.form()
    form = {k: v.strip() for k, v in raw.items() if isinstance(v, str)}
    errors: list[str] = []
    coder_names = [u.name for u in ctx.users.list() if u.role == Role.coder and not u.disabled]
    name = " ".join(form.get("name", "").split())[:200]
    coder, qc_coder = form.get("coder", ""), form.get("qc_coder", "") or None
    prefix = form.get("bates_prefix", "").upper()
    if not name:
        errors.append("Give the batch a name.")
    if coder not in coder_names:
        errors.append("Choose the coder the batch is for.")
    if qc_coder is not None and qc_coder not in coder_names:
        errors.append("Choose the QC coder from the list.")
    if qc_coder is not None and qc_coder == coder:
        errors.append("The QC coder must be someone other than the coder: nobody checks their own work.")
    try:
        share = float(form.get("qc_share") or "10") / 100
        if not 0 <= share <= 1:
            raise ValueError
    except ValueError:
        errors.append("The QC share is a percentage from 0 to 100.")
        share = 0.1
    if check_prefix(prefix):
        errors.append(check_prefix(prefix))
    seed_text = form.get("seed", "")
    seed = int(seed_text) if seed_text.isdigit() and len(seed_text) < 10 else secrets.randbelow(1_000_000)
    ids: list[str] = []
    source = ""
    if form.get("ids"):
        ids = _ids_from(form["ids"])
        source = f"{len(ids)} listed ids"
        bad = [i for i in ids if not is_doc_id(i)]
        if bad:
            errors.append(f"Not document ids: {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}")
    elif form.get("query"):
        source = f"search: {form['query'][:500]}"
        try:
            result = ctx.index.search(form["query"][:1000], limit=MAX_BATCH, offset=0)
            ids = list(dict.fromkeys(str(h.id) for h in result.hits if is_doc_id(str(h.id))))
        except QuerySyntaxError as err:
            errors.append(f"The search could not be read: {str(err).splitlines()[0] if str(err) else ''}")
    else:
        errors.append("Give a search or a list of document ids.")
    if len(ids) > MAX_BATCH:
        errors.append(f"A batch holds at most {MAX_BATCH} documents.")
    docs: list[NewDoc] = []
    if not errors:
        for doc_id in ids:
            try:
                doc = ctx.archive.get(doc_id)
            except NotFound:
                errors.append(f"There is no document {doc_id}.")
                continue
            docs.append(NewDoc(doc_id=doc_id, name=download_name(doc.source, fallback=doc_id), sha256=doc.sha256,
                               native_ext=_EXTENSIONS.get(doc.media_type, ""), page_count=len(doc.pages)))
        if not docs and not errors:
            errors.append("The search found no documents.")
    qc_docs: dict[str, str] = {}
    if not errors:
        try:
            qc_docs = qc_sample({coder: [d.doc_id for d in docs]}, share, [qc_coder] if qc_coder else [], seed)
        except QcError as err:
            errors.append(f"{err}: choose a QC coder, or set the QC share to 0.")
    if errors:
        batches = coding.store.batches()
        return ctx.templates.TemplateResponse(request, "coding_home.html", {
            "rows": [{"batch": b, "total": len(coding.store.docs(b.id)), "done": 0, "next_seq": None, "my_qc": [],
                      "mine": False} for b in batches],
            "lead": True, "coders": coder_names, "figures": coder_figures(coding.store), "form": form,
            "errors": errors, "created": "",
        }, status_code=400)
    batch = coding.store.create_batch(name=name, created_by=user.name, coder=coder, qc_coder=qc_coder, qc_share=share,
                                      seed=seed, bates_prefix=prefix, source=source, docs=docs, qc_docs=qc_docs)
    ctx.archive.audit_action(user.actor, "coding-batch", None, batch=batch.id, name=name, coder=coder,
                             qc_coder=qc_coder, documents=[d.doc_id for d in docs], qc=sorted(qc_docs))
    return RedirectResponse(f"/coding/batches/{batch.id}", status_code=303)


@router.get("/coding/batches/{batch_id}", response_class=HTMLResponse, summary="One coding batch",
            dependencies=[coders])
def batch_page(request: Request, batch_id: str) -> Response:
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    docs = coding.store.docs(batch.id)
    if not _may_see(user, batch, docs):
        raise _refuse("This batch is not assigned to you.")
    statuses = _statuses(coding.store, batch, docs)
    return ctx.templates.TemplateResponse(request, "coding_batch.html", {
        "batch": batch, "statuses": statuses, "lead": _is_lead(user),
        "figures": coder_figures(coding.store, batch.id), "me": user.name,
        "done": sum(1 for s in statuses if s.coded_by),
    })


# ----------------------------------------------------------------------------- the panel


@dataclass(frozen=True)
class PanelField:
    name: str
    label: str
    type: str
    value: Any
    required: bool
    conditional: str  # when a rule may require it: the rule's message ("" otherwise)
    error: str | None
    choices: list[tuple[str, str]]  # (choice, shortcut key or "")
    estimated: bool | None  # dates with the flag: its value


def _panel_fields(schema: CodingSchema, values: dict[str, Any], errors: dict[str, str]) -> list[PanelField]:
    required = schema.required_now(values)
    return [PanelField(
        name=f.name, label=f.label, type=f.type, value=values.get(f.name, f.empty()),
        required=f.name in required, error=errors.get(f.name),
        conditional=next((r.message for r in schema.rules if r.field == f.name), ""),
        choices=[(c, f.shortcuts.get(c, "")) for c in f.choices],
        estimated=bool(values.get(f"{f.name}_estimated")) if f.estimated else None,
    ) for f in schema.fields]


def _render_panel(request: Request, batch: Batch, entry: BatchDoc, doc: Document, kind: str, values: dict,
                  errors: dict[str, str] | None = None, status: int = 200, base: int = 0, notice: str = "") -> Response:
    ctx, coding = context_of(request), _coding(request)
    total = len(coding.store.docs(batch.id))
    qc = kind == "qc"
    pages = [{"number": p.number, "width": p.width, "height": p.height, "words": p.words,
              "image_url": f"/doc/{doc.id}/page/{p.number}.png"} for p in doc.pages]
    here = f"/coding/batches/{batch.id}/{'qc' if qc else 'doc'}"
    if qc:
        seqs = [d.seq for d in coding.store.docs(batch.id) if d.qc_coder == current_user(request).name]
        pos = seqs.index(entry.seq) if entry.seq in seqs else -1
        prev_seq = seqs[pos - 1] if pos > 0 else None
        next_seq = seqs[pos + 1] if 0 <= pos < len(seqs) - 1 else None
    else:
        prev_seq = entry.seq - 1 if entry.seq > 1 else None
        next_seq = entry.seq + 1 if entry.seq < total else None
    return ctx.templates.TemplateResponse(request, "coding_panel.html", {
        "batch": batch, "entry": entry, "doc": doc, "kind": kind, "total": total, "pages": pages,
        "fields": _panel_fields(coding.schema, values, errors or {}), "errors": errors or {},
        "action": f"{here}/{entry.seq}", "prev_url": f"{here}/{prev_seq}" if prev_seq else "",
        "next_url": f"{here}/{next_seq}" if next_seq else "", "base": base, "notice": notice,
        "name": download_name(doc.source, fallback=doc.id or "document"),
    }, status_code=status)


def _check_coder(user: User, batch: Batch) -> None:
    if not (_is_lead(user) or user.name == batch.coder):
        raise _refuse(f"Batch {batch.id} is assigned to {batch.coder}, not to you.")


def _check_qc(user: User, batch: Batch, entry: BatchDoc) -> None:
    if not entry.qc_coder:
        raise NotFound(f"Document {entry.seq} of batch {batch.id} was not drawn for QC.")
    if user.name == batch.coder:
        raise _refuse("You coded this batch: its QC is done by a second coder.")
    if not (_is_lead(user) or user.name == entry.qc_coder):
        raise _refuse(f"The QC of this document is assigned to {entry.qc_coder}.")


@router.get("/coding/batches/{batch_id}/doc/{seq}", response_class=HTMLResponse, summary="Code one document",
            dependencies=[coders])
def panel_page(request: Request, batch_id: str, seq: str) -> Response:
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_coder(user, batch)
    doc = load_document(ctx.archive, entry.doc_id)
    ctx.archive.audit_action(user.actor, "view", doc.id, via="coding", batch=batch.id)
    current = coding.store.final(batch.id, entry.doc_id)
    values = current.values if current else prefill(coding.schema, doc)
    notice = ""
    if request.query_params.get("saved") == "1" and current:
        notice = f"Saved (record version {current.version})."
    return _render_panel(request, batch, entry, doc, "code", values, base=current.id if current else 0, notice=notice)


def _form_lists(raw) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


async def _save(request: Request, batch: Batch, entry: BatchDoc, kind: str, previous_kinds: tuple[str, ...],
                values: dict | None = None, form: dict[str, list[str]] | None = None) -> tuple[Any, Response | None]:
    """Validate and store a coding; returns (the coding, None) or (None, the page with errors)."""
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    doc = load_document(ctx.archive, entry.doc_id)
    if values is None:
        form = form or {}
        values, errors = parse_form(coding.schema, form)
        previous = coding.store.latest(batch.id, entry.doc_id, previous_kinds)
        base = (form.get("base") or ["0"])[0]
        if base != str(previous.id if previous else 0):
            return None, _render_panel(request, batch, entry, doc, kind, values, {}, status=409,
                                       base=previous.id if previous else 0,
                                       notice="Someone saved this document's coding while you had it open; "
                                              "check the values and save again.")
        if errors:
            return None, _render_panel(request, batch, entry, doc, kind, values, errors, status=400,
                                       base=previous.id if previous else 0)
    before = coding.store.final(batch.id, entry.doc_id) if kind != "qc" else \
        coding.store.latest(batch.id, entry.doc_id, ("qc",))
    if kind in ("code", "resolved"):  # the final coding travels with the record (QC codings stay in SQLite)
        doc = doc.model_copy(update={"coding": Coding(schema_name=coding.schema.name, values=values,
                                                      coder=user.actor, batch=batch.id, kind=kind)})
    saved = ctx.archive.save(doc, actor=user.actor, action="code")
    stored = coding.store.save_coding(batch.id, entry.doc_id, saved.version, user.name, kind, values)
    ctx.archive.audit_action(user.actor, "coding", doc.id, batch=batch.id, kind=kind, version=saved.version,
                             changed=changes(coding.schema, before.values if before else None, values))
    return stored, None


@router.post("/coding/batches/{batch_id}/doc/{seq}", summary="Save a document's coding",
             dependencies=[coders, csrf])
async def panel_save(request: Request, batch_id: str, seq: str) -> Response:
    """The coding form (one key per schema field; repeated keys for multi-picklists; person
    lists one name per line), ``base`` (the coding shown, 0 for none) and ``go`` (``next`` to
    open the next document after saving)."""
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_coder(user, batch)
    form = _form_lists(await request.form())
    _, page = await _save(request, batch, entry, "code", ("code", "resolved"), form=form)
    if page is not None:
        return page
    total = len(_coding(request).store.docs(batch.id))
    if (form.get("go") or [""])[0] == "next":
        target = f"/coding/batches/{batch.id}/doc/{entry.seq + 1}" if entry.seq < total else \
            f"/coding/batches/{batch.id}?finished=1"
    else:
        target = f"/coding/batches/{batch.id}/doc/{entry.seq}?saved=1"
    return RedirectResponse(target, status_code=303)


# ----------------------------------------------------------------------------- QC


@router.get("/coding/batches/{batch_id}/qc/{seq}", response_class=HTMLResponse,
            summary="QC: code a document again, blind", dependencies=[coders])
def qc_page(request: Request, batch_id: str, seq: str) -> Response:
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_qc(user, batch, entry)
    if coding.store.latest(batch.id, entry.doc_id, ("code",)) is None:
        raise NotFound(f"{batch.coder} has not coded document {entry.seq} yet; its QC opens when they have.")
    doc = load_document(ctx.archive, entry.doc_id)
    ctx.archive.audit_action(user.actor, "view", doc.id, via="coding-qc", batch=batch.id)
    mine = coding.store.latest(batch.id, entry.doc_id, ("qc",))
    # Blind: the QC coder starts from the extraction, not from the first coder's values.
    values = mine.values if mine else prefill(coding.schema, doc)
    return _render_panel(request, batch, entry, doc, "qc", values, base=mine.id if mine else 0)


@router.post("/coding/batches/{batch_id}/qc/{seq}", summary="QC: save the second coding",
             dependencies=[coders, csrf])
async def qc_save(request: Request, batch_id: str, seq: str) -> Response:
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_qc(user, batch, entry)
    if _coding(request).store.latest(batch.id, entry.doc_id, ("code",)) is None:
        raise NotFound(f"{batch.coder} has not coded document {entry.seq} yet.")
    form = _form_lists(await request.form())
    _, page = await _save(request, batch, entry, "qc", ("qc",), form=form)
    if page is not None:
        return page
    return RedirectResponse(f"/coding/batches/{batch.id}/qc/{entry.seq}/compare", status_code=303)


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


@router.get("/coding/batches/{batch_id}/qc/{seq}/compare", response_class=HTMLResponse,
            summary="QC: the two codings side by side", dependencies=[coders])
def qc_compare(request: Request, batch_id: str, seq: str) -> Response:
    return _compare_page(request, batch_id, seq)


def _both_codings(coding: CodingContext, batch: Batch, entry: BatchDoc, verb: str) -> tuple[StoredCoding, StoredCoding]:
    """The first coder's and the QC coder's latest codings of a batch document (404 until both exist)."""
    first = coding.store.latest(batch.id, entry.doc_id, ("code",))
    second = coding.store.latest(batch.id, entry.doc_id, ("qc",))
    if first is None or second is None:
        raise NotFound(f"Both codings are needed to {verb}: code the document for QC first.")
    return first, second


def _compare_page(request: Request, batch_id: str, seq: str, errors: dict[str, str] | None = None,
                  status: int = 200) -> Response:
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_qc(user, batch, entry)
    first, second = _both_codings(coding, batch, entry, "compare")
    resolved = next((r for r in coding.store.qc_results(batch.id) if r.doc_id == entry.doc_id), None)
    final = coding.store.final(batch.id, entry.doc_id)
    rows = []
    for name in coding.schema.names:
        label = name
        try:
            label = coding.schema.field(name).label
        except KeyError:
            label = coding.schema.field(name.removesuffix("_estimated")).label + " (estimated)"
        a, b = first.values.get(name), second.values.get(name)
        rows.append({"name": name, "label": label, "first": _display(a), "second": _display(b),
                     "same": same_value(a, b) or (a in (None, False, "", []) and b in (None, False, "", [])),
                     "final": _display(final.values.get(name)) if resolved and final else ""})
    agreement = field_agreement(first.values, second.values, coding.schema.names)
    ctx.archive.audit_action(user.actor, "view", entry.doc_id, via="coding-qc-compare", batch=batch.id)
    return ctx.templates.TemplateResponse(request, "coding_qc.html", {
        "batch": batch, "entry": entry, "rows": rows, "first": first, "second": second, "agreement": agreement,
        "resolved": resolved, "errors": errors or {},
    }, status_code=status)


@router.post("/coding/batches/{batch_id}/qc/{seq}/resolve", summary="QC: resolve the disagreements",
             dependencies=[coders, csrf])
async def qc_resolve(request: Request, batch_id: str, seq: str) -> Response:
    """Form: ``pick.<field>`` = ``first`` or ``qc`` for each field where the codings differ."""
    coding = _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    entry = _doc_or_404(request, batch, seq)
    _check_qc(user, batch, entry)
    first, second = _both_codings(coding, batch, entry, "resolve")
    raw = await request.form()
    agreement = field_agreement(first.values, second.values, coding.schema.names)
    values = dict(first.values)
    for name in coding.schema.names:
        if raw.get(f"pick.{name}") == "qc":
            values[name] = second.values.get(name)
    from web.coding.schema import validate
    errors = validate(coding.schema, values)
    if errors:
        return _compare_page(request, batch_id, seq, errors=errors, status=400)
    await _save(request, batch, entry, "resolved", (), values=values)
    coding.store.record_qc(batch.id, entry.doc_id, first.coder, user.name, agreement.compared, agreement.agreed,
                           agreement.disagreements)
    return RedirectResponse(f"/coding/batches/{batch.id}/qc/{entry.seq}/compare", status_code=303)


# ----------------------------------------------------------------------------- exports


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "coding.csv"),
    "json": ("application/json", "coding.json"),
    "dat": ("text/plain; charset=utf-8", "loadfile.dat"),
    "opt": ("text/plain; charset=utf-8", "images.opt"),
    "privlog": ("text/csv; charset=utf-8", "privilege-log.csv"),
}


@router.get("/coding/batches/{batch_id}/export", summary="Export a batch's coding (leads)",
            dependencies=[leads])
def export(request: Request, batch_id: str, format: str = "csv") -> Response:
    """``format``: ``csv``, ``json``, ``dat`` (Concordance), ``opt`` (Opticon) or ``privlog``
    (privilege log, CSV). Only coded documents are exported, with their final coding."""
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    if format not in EXPORT_FORMATS:
        raise HTTPException(400, f"Unknown export format {format[:20]!r}: use one of {', '.join(EXPORT_FORMATS)}.")
    rows = export_rows(coding.store, batch)
    if format == "csv":
        data = coding_csv(rows, coding.schema.names)
    elif format == "json":
        data = coding_json(rows, {"batch": {"id": batch.id, "name": batch.name, "bates_prefix": batch.bates_prefix},
                                  "schema": coding.schema.name})
    elif format == "dat":
        data = dat_file(rows)
    elif format == "opt":
        data = opt_file(rows)
    else:
        data = privilege_log(rows)
    media, name = EXPORT_FORMATS[format]
    ctx.archive.audit_action(user.actor, "export", None, what=f"coding-{format}", batch=batch.id,
                             documents=[r.doc_id for r in rows])
    return Response(data, media_type=media,
                    headers={"content-disposition": content_disposition(f"batch-{batch.id}-{name}")})


@router.get("/coding/batches/{batch_id}/production", summary="Download a batch's production volume (ZIP, leads)",
            dependencies=[leads])
def production(request: Request, batch_id: str,
               volume: str = Query("VOL001", max_length=20, description="Volume name (VOL001)")) -> Response:
    """The batch as a production volume a review platform loads as is: DAT and OPT load files,
    one Group IV TIFF per Bates number, natives and text (see ``web.coding.production``).
    Responsive documents only; privileged ones are withheld behind slip sheets."""
    ctx, coding = context_of(request), _coding(request)
    user = current_user(request)
    batch = _batch_or_404(request, batch_id)
    work = Path(ctx.config.home) / "tmp"  # beside the data: a volume can be far larger than /tmp
    work.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="production-", suffix=".zip", dir=work)
    os.close(handle)
    path = Path(name)
    try:
        report = produce(coding.store, ctx.archive, path, batch_id=batch.id, volume=volume, workdir=work)
    except ProductionError as err:
        path.unlink(missing_ok=True)
        raise HTTPException(400, str(err)) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    ctx.archive.audit_action(user.actor, "export", None, batch=batch.id, **report.audit_detail())
    return FileResponse(path, media_type="application/zip", background=BackgroundTask(path.unlink, missing_ok=True),
                        headers={"content-disposition": content_disposition(f"batch-{batch.id}-{volume}.zip")})

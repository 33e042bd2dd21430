"""The mailroom: upload files or batch PDFs, watch a batch being processed, retry or remove
what was quarantined. Files go to ``ECM_HOME/inbox/<batch-id>/<nnnn>/<safe name>``; the
background worker (``web.worker``) ingests them; stored and duplicate files leave the inbox
(the store keeps the original), quarantined ones stay for a retry until deleted.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ecm.errors import NotFound
from web.access import CSRF_HEADER, MAILROOM, READERS, check_csrf, csrf_checked, current_user, may, require
from web.batches import BATCH_ID, Batch, new_batch_id
from web.context import context_of
from web.errors import error_response
from web.uploads import UploadError, receive_files
from web.worker import remove_inbox_file

__all__ = ["router", "inbox_folder"]

router = APIRouter()
mailroom = Depends(require(*MAILROOM))


def inbox_folder(home: Path | str) -> Path:
    return Path(home) / "inbox"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _batch(request: Request, batch_id: str) -> Batch:
    batch = context_of(request).batches.get(batch_id) if BATCH_ID.fullmatch(batch_id) else None
    if batch is None:
        raise NotFound(f"There is no batch {batch_id}.")
    return batch


def batch_json(batch: Batch) -> dict:
    return {"id": batch.id, "created_by": batch.created_by, "created_at": _when(batch.created_at),
            "finished": batch.finished, "done": batch.done, "total": len(batch.items),
            "counts": batch.counts, "items": [i.public() for i in batch.items]}


@router.get("/mailroom", response_class=HTMLResponse, summary="Mailroom: upload files", dependencies=[mailroom])
def mailroom_page(request: Request) -> Response:
    ctx = context_of(request)
    batches = [{"id": b.id, "by": b.created_by, "when": _when(b.created_at), "total": len(b.items),
                "counts": b.counts, "finished": b.finished} for b in ctx.batches.recent(20)]
    return ctx.templates.TemplateResponse(request, "mailroom.html", {
        "batches": batches, "max_upload_mb": ctx.config.web.max_upload_mb,
    })


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _refuse(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return error_response(request, status, message)


@router.post("/mailroom/upload", summary="Upload files as a new batch (multipart, field `files`)",
             dependencies=[mailroom])
async def upload(request: Request) -> Response:
    """Files (any number, ``files`` fields) become one batch, processed in the background;
    with ``?split=1`` batch scans are split into documents (``ecm ingest --split``).
    Send the session's CSRF token as the ``X-CSRF-Token`` header or a ``csrf`` field before
    the files. Over ``[web] max_upload_mb`` the answer is 413 and nothing is kept."""
    ctx = context_of(request)
    user = current_user(request)
    limit = ctx.config.web.max_upload_mb * 2**20
    header_token = request.headers.get(CSRF_HEADER)
    if header_token is not None:
        check_csrf(request, header_token)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return _refuse(request, 413, f"The upload is larger than the limit of {ctx.config.web.max_upload_mb} MB "
                                     "([web] max_upload_mb); send fewer or smaller files per batch.")
    batch_id = new_batch_id()
    folder = inbox_folder(ctx.config.home) / batch_id
    folder.mkdir(parents=True)
    session = request.state.session
    try:
        files = await receive_files(request.stream(), request.headers.get("content-type", ""), folder, limit,
                                    csrf_ok=lambda token: ctx.signer.check_csrf(session, token),
                                    csrf_given=header_token is not None)
        if not files:
            raise UploadError("No files were chosen: pick or drop at least one file.")
    except UploadError as err:
        shutil.rmtree(folder, ignore_errors=True)
        return _refuse(request, err.status, str(err))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    ctx.batches.create(batch_id, user.name, files, split=request.query_params.get("split") == "1")
    ctx.archive.audit_action(user.actor, "upload", None, batch=batch_id, files=len(files),
                             bytes=sum(size for _, _, size in files))
    ctx.worker.submit(batch_id)
    url = f"/mailroom/batches/{batch_id}"
    if _wants_json(request):
        return JSONResponse({"batch": batch_id, "url": url, "files": len(files)}, status_code=201)
    return RedirectResponse(url, status_code=303)


@router.get("/mailroom/batches/{batch_id}", response_class=HTMLResponse, summary="A batch and its results",
            dependencies=[mailroom])
def batch_page(request: Request, batch_id: str) -> Response:
    ctx = context_of(request)
    batch = _batch(request, batch_id)
    return ctx.templates.TemplateResponse(request, "batch.html", {
        "batch": batch, "data": batch_json(batch), "when": _when(batch.created_at),
        "can_read": may(current_user(request), READERS),
    })


@router.get("/api/batches/{batch_id}", summary="A batch's progress and per-file results", dependencies=[mailroom])
def batch_status(request: Request, batch_id: str) -> dict:
    """``finished``, ``done`` of ``total``, ``counts`` by status and ``items`` (name, status,
    doc_id, doc_type, confidence, key fields, reason)."""
    return batch_json(_batch(request, batch_id))


def _quarantined_item(request: Request, batch_id: str, seq: int):
    batch = _batch(request, batch_id)
    item = next((i for i in batch.items if i.seq == seq), None)
    if item is None:
        raise NotFound(f"Batch {batch_id} has no file {seq}.")
    if item.status not in ("quarantined", "failed"):
        raise NotFound(f"File {seq} of batch {batch_id} is {item.status}, not quarantined.")
    return item


@router.post("/mailroom/batches/{batch_id}/items/{seq:int}/retry", summary="Process a quarantined file again",
             dependencies=[mailroom, Depends(csrf_checked)])
def retry_item(request: Request, batch_id: str, seq: int) -> Response:
    ctx = context_of(request)
    item = _quarantined_item(request, batch_id, seq)
    if not Path(item.path).is_file():
        raise NotFound("That file is no longer in the inbox; upload it again.")
    ctx.batches.set_status(batch_id, seq, "pending")
    ctx.archive.audit_action(current_user(request).actor, "retry", None, batch=batch_id, name=item.name,
                             sha256=item.sha256)
    ctx.worker.submit(batch_id)
    return RedirectResponse(f"/mailroom/batches/{batch_id}", status_code=303)


@router.post("/mailroom/batches/{batch_id}/items/{seq:int}/delete", summary="Remove a quarantined file from the inbox",
             dependencies=[mailroom, Depends(csrf_checked)])
def delete_item(request: Request, batch_id: str, seq: int) -> Response:
    """The file leaves the inbox; the archive keeps its quarantine record and audit trail."""
    ctx = context_of(request)
    item = _quarantined_item(request, batch_id, seq)
    remove_inbox_file(Path(item.path))
    ctx.batches.set_status(batch_id, seq, "deleted")
    ctx.archive.audit_action(current_user(request).actor, "inbox-delete", None, batch=batch_id, name=item.name,
                             sha256=item.sha256, reason=item.reason)
    return RedirectResponse(f"/mailroom/batches/{batch_id}", status_code=303)

"""Admin pages (role admin): users, the review threshold, legal hold and retention, the
audit trail, and the coding schemas; and their JSON API under ``/api/admin/``.

Every change is audited in the store (``user-add``, ``user-role``, ``user-disable``,
``user-enable``, ``user-password``, ``threshold``; holds and retention by the archive itself as
``hold`` / ``release`` / ``retain``), and so is every export of the audit trail.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from ecm.errors import NotFound, StoreError
from ecm.settings import (
    THRESHOLD, SettingError, SettingsStore, apply_settings, check_threshold, configured, pinned_by_environment,
)
from web.access import ADMINS, csrf_checked, current_user, require
from web.context import context_of
from web.dashboard import KpiCache
from web.documents import is_doc_id, load_document
from web.ledger import AuditFilter, Ledger
from web.users import ROLES, Role, UserError

__all__ = ["router", "AdminState", "install", "schema_listing", "AUDIT_PAGE", "SCHEMAS_DIR"]

router = APIRouter()
admins = Depends(require(*ADMINS))
AUDIT_PAGE = 50
SCHEMAS_DIR = Path(__file__).parent / "coding" / "schemas"
PREVIEW_THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


@dataclass
class AdminState:
    """What the admin pages and the dashboard keep beside the WebContext."""

    ledger: Ledger
    settings: SettingsStore
    kpis: KpiCache = field(default_factory=KpiCache)
    schemas_dir: Path = SCHEMAS_DIR


def install(app: FastAPI, db: Path) -> None:
    """Put the admin state on ``app.state.admin`` (after ``app.state.ecm``), and make the
    stored threshold the one every page uses (unless ECM_REVIEW_THRESHOLD pins it: see
    ecm.settings for the order)."""
    ctx = app.state.ecm
    settings = SettingsStore(db)
    # The pages' own copy: changing the threshold here must not reach into the caller's Config.
    # `ecm serve` has applied the stored value already; applying it again changes nothing.
    ctx.config = apply_settings(ctx.config, settings)
    app.state.config_default_threshold = configured(ctx.config, THRESHOLD)
    ctx.templates.env.filters.setdefault(
        "datetime", lambda ts: datetime.fromtimestamp(float(ts), timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    app.state.admin = AdminState(ledger=Ledger(db, ctx.archive), settings=settings)


def state_of(request: Request) -> AdminState:
    return request.app.state.admin


def _render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    return context_of(request).templates.TemplateResponse(request, template, values, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: v.strip() for k, v in raw.items() if isinstance(v, str)}


def _new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters; shown once


# ----------------------------------------------------------------------------- users


def _users_page(request: Request, status: int = 200, error: str = "", notice: str = "",
                password: tuple[str, str] | None = None) -> Response:
    users = context_of(request).users.list()
    return _render(request, "admin_users.html", status, users=users, roles=ROLES, error=error, notice=notice,
                   password=password, me=current_user(request).name, section="users")


@router.get("/admin", summary="Admin: start page", dependencies=[admins])
def admin_home() -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse, summary="Admin: users", dependencies=[admins])
def users_page(request: Request) -> Response:
    return _users_page(request)


def _others_admin_left(request: Request, name: str) -> bool:
    return any(u.role == Role.admin and not u.disabled and u.name != name for u in context_of(request).users.list())


@router.post("/admin/users", summary="Admin: add a user", dependencies=[admins, Depends(csrf_checked)])
async def add_user(request: Request) -> Response:
    """Form ``name``, ``role`` and optionally ``password`` (else a random one is made and shown once)."""
    ctx, me = context_of(request), current_user(request)
    form = await _form(request)
    name, role = form.get("name", "").lower(), form.get("role", "")
    password = form.get("password", "") or _new_password()
    try:
        user = ctx.users.add(name, role, password)
    except UserError as err:
        return _users_page(request, 400, error=str(err))
    ctx.archive.audit_action(me.actor, "user-add", None, user=user.name, role=user.role.value)
    shown = (user.name, password) if not form.get("password") else None
    return _users_page(request, notice=f"Added {user.name} ({user.role.value}).", password=shown)


@router.post("/admin/users/change", summary="Admin: change a user's role, status or password",
             dependencies=[admins, Depends(csrf_checked)])
async def change_user(request: Request) -> Response:
    """Form ``name`` and ``action``: ``role`` (with ``role``), ``disable``, ``enable`` or
    ``password`` (a new random password, shown once; it also lifts a lock)."""
    ctx, me = context_of(request), current_user(request)
    form = await _form(request)
    name, action = form.get("name", ""), form.get("action", "")
    target = ctx.users.by_name(name)
    if target is None:
        return _users_page(request, 400, error=f"There is no user {name!r}.")
    password = None
    try:
        if action == "role":
            role = form.get("role", "")
            if name == me.name and role != Role.admin.value:
                return _users_page(request, 400, error="You cannot take the admin role from yourself; "
                                                       "ask another admin.")
            if target.role == Role.admin and role != Role.admin.value and not _others_admin_left(request, name):
                return _users_page(request, 400, error="This is the last enabled admin: make someone else admin first.")
            user = ctx.users.set_role(name, role)
            ctx.archive.audit_action(me.actor, "user-role", None, user=name, old=target.role.value, new=user.role.value)
            notice = f"{name} is now {user.role.value}."
        elif action in ("disable", "enable"):
            if name == me.name and action == "disable":
                return _users_page(request, 400, error="You cannot disable your own account.")
            if action == "disable" and target.role == Role.admin and not _others_admin_left(request, name):
                return _users_page(request, 400, error="This is the last enabled admin: it cannot be disabled.")
            ctx.users.set_disabled(name, action == "disable")
            ctx.archive.audit_action(me.actor, f"user-{action}", None, user=name)
            notice = f"{name} is {'disabled (signed out everywhere)' if action == 'disable' else 'enabled'}."
        elif action == "password":
            new = _new_password()
            ctx.users.set_password(name, new)
            ctx.archive.audit_action(me.actor, "user-password", None, user=name)
            password = (name, new)
            notice = f"{name} has a new password (every session of theirs is signed out)."
        else:
            return _users_page(request, 400, error="Choose what to change: role, disable, enable or password.")
    except UserError as err:
        return _users_page(request, 400, error=str(err))
    return _users_page(request, notice=notice, password=password)


@router.get("/api/admin/users", summary="Admin: the users (JSON)", dependencies=[admins])
def api_users(request: Request) -> Any:
    return {"users": [{"name": u.name, "role": u.role.value, "disabled": u.disabled,
                       "created_at": datetime.fromtimestamp(u.created_at, timezone.utc).isoformat()}
                      for u in context_of(request).users.list()]}


# ----------------------------------------------------------------------------- thresholds


def _threshold_info(request: Request, trial: float | None = None) -> dict[str, Any]:
    ctx, admin = context_of(request), state_of(request)
    admin.ledger.sync()
    accepted = ctx.reviews.accepted()
    current = ctx.config.review.threshold
    stored = admin.settings.info(THRESHOLD)
    values = sorted({*PREVIEW_THRESHOLDS, current, *([trial] if trial is not None else [])})
    preview = []
    for value in values:
        counts = admin.ledger.review_counts(value, accepted)
        preview.append({"threshold": value, "backlog": counts["backlog"], "documents": counts["documents"],
                        "straight_through": counts["straight_through"], "current": value == current,
                        "trial": value == trial})
    return {"threshold": current, "default": request.app.state.config_default_threshold,
            "stored": stored, "pinned": pinned_by_environment(), "preview": preview}


def _pinned_message(variable: str) -> str:
    return (f"The review threshold is set by {variable} in the server's environment, which comes before the "
            f"value saved here (for the web and the command line alike): remove the variable and restart to set it "
            f"here.")


def _thresholds_page(request: Request, status: int = 200, error: str = "", notice: str = "",
                     trial: float | None = None) -> Response:
    info = _threshold_info(request, trial)
    if info["pinned"]:
        notice = notice or ("" if error else _pinned_message(info["pinned"]))
        info["stored"] = None  # not in effect: the page shows where the value comes from
    return _render(request, "admin_thresholds.html", status, error=error, notice=notice, section="thresholds",
                   trial=trial, **info)


@router.get("/admin/thresholds", response_class=HTMLResponse, summary="Admin: review threshold",
            dependencies=[admins])
def thresholds_page(request: Request, trial: str = Query("", max_length=20,
                                                          description="A threshold to preview (0..1)")) -> Response:
    error, value = "", None
    if trial:
        try:
            value = check_threshold(trial)
        except SettingError as err:
            error = str(err)
    return _thresholds_page(request, 400 if error else 200, error=error, trial=value)


@router.post("/admin/thresholds", summary="Admin: set (or reset) the review threshold",
             dependencies=[admins, Depends(csrf_checked)])
async def set_threshold(request: Request) -> Response:
    """Form ``threshold`` (0..1), or ``reset=1`` to go back to the configuration's value."""
    ctx, admin, me = context_of(request), state_of(request), current_user(request)
    form = await _form(request)
    old = ctx.config.review.threshold
    pinned = pinned_by_environment()
    if pinned:
        return _thresholds_page(request, 409, error=_pinned_message(pinned))
    if form.get("reset") == "1":
        admin.settings.clear(THRESHOLD)
        new = request.app.state.config_default_threshold
    else:
        try:
            new = check_threshold(form.get("threshold", ""))
        except SettingError as err:
            return _thresholds_page(request, 400, error=str(err))
        admin.settings.set(THRESHOLD, str(new), me.actor)
    ctx.config.review.threshold = new
    if hasattr(ctx.index, "review_threshold"):
        ctx.index.review_threshold = new  # documents indexed from now on get their state at the new threshold
    admin.kpis.clear()
    ctx.archive.audit_action(me.actor, "threshold", None, old=old, new=new, reset=form.get("reset") == "1")
    return _thresholds_page(request, notice=f"The review threshold is now {new:.0%} (was {old:.0%}). Documents already indexed keep their review state (the queue, review:) until `ecm reindex` recomputes it.")


@router.get("/api/admin/thresholds", summary="Admin: the review threshold and its effect (JSON)",
            dependencies=[admins])
def api_thresholds(request: Request) -> Any:
    info = _threshold_info(request)
    if info["stored"]:
        info["stored"] = {**info["stored"], "updated_at": datetime.fromtimestamp(
            info["stored"]["updated_at"], timezone.utc).isoformat()}
    return info


# ----------------------------------------------------------------------------- holds and retention


def _holds_page(request: Request, status: int = 200, error: str = "", notice: str = "", doc_id: str = "") -> Response:
    admin = state_of(request)
    admin.ledger.sync()
    return _render(request, "admin_holds.html", status, rows=admin.ledger.holds(), error=error, notice=notice,
                   doc_id=doc_id, section="holds", today=date.today().isoformat())


@router.get("/admin/holds", response_class=HTMLResponse, summary="Admin: documents on legal hold or retained",
            dependencies=[admins])
def holds_page(request: Request) -> Response:
    done = request.query_params.get("done", "")
    return _holds_page(request, notice=f"Saved for {done}." if is_doc_id(done) else "")


def _parse_day(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise StoreError(f"write the date as YYYY-MM-DD (for example 2033-12-31), not {text!r}") from None


@router.post("/admin/holds", summary="Admin: legal hold, release or retention of one document",
             dependencies=[admins, Depends(csrf_checked)])
async def change_hold(request: Request) -> Response:
    """Form ``doc_id``, ``action`` (``hold``, ``release`` or ``retain`` with ``until`` =
    YYYY-MM-DD) and ``next`` (``doc``: back to the document view; else the held list)."""
    ctx, me = context_of(request), current_user(request)
    form = await _form(request)
    doc_id, action = form.get("doc_id", "").lower(), form.get("action", "")
    try:
        if not is_doc_id(doc_id):
            raise NotFound("Give a document id (16 hexadecimal digits, shown on the document page).")
        load_document(ctx.archive, doc_id)
        if action in ("hold", "release"):
            ctx.archive.hold(doc_id, action == "hold", me.actor)
        elif action == "retain":
            day = _parse_day(form.get("until", ""))
            if day <= date.today():
                raise StoreError(f"retain until a day after today, not {day.isoformat()}")
            ctx.archive.retain(doc_id, datetime(day.year, day.month, day.day, tzinfo=timezone.utc), me.actor)
        else:
            raise StoreError("choose hold, release or retain")
    except (NotFound, StoreError) as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return _holds_page(request, 404 if isinstance(err, NotFound) else 400,
                           error=f"Not saved: {message[:1].upper()}{message[1:]}.".replace("..", "."), doc_id=doc_id)
    state_of(request).ledger.refresh_hold(doc_id)
    if form.get("next") == "doc":
        return RedirectResponse(f"/doc/{doc_id}?{urlencode({'saved': action})}#records", status_code=303)
    return RedirectResponse(f"/admin/holds?done={doc_id}", status_code=303)


@router.get("/api/admin/holds", summary="Admin: documents on legal hold or retained (JSON)", dependencies=[admins])
def api_holds(request: Request) -> Any:
    admin = state_of(request)
    admin.ledger.sync()
    return {"documents": [row.public() for row in admin.ledger.holds()]}


# ----------------------------------------------------------------------------- the audit trail


def _audit_filter(actor: str, action: str, doc: str, since: str, until: str) -> AuditFilter:
    def day(text: str, name: str) -> date | None:
        if not text:
            return None
        try:
            return _parse_day(text)
        except StoreError as err:
            raise StoreError(f"{name}: {err}") from None

    return AuditFilter(actor=actor.strip(), action=action.strip(), doc_id=doc.strip().lower(),
                       since=day(since, "from"), until=day(until, "to"))


_AUDIT_PARAMS = {
    "actor": Query("", max_length=100, description="User name (ann) or actor (user:ann, cli, system)"),
    "action": Query("", max_length=50, description="Action, e.g. view, edit, hold, user-add"),
    "doc": Query("", max_length=32, description="Document id"),
    "since": Query("", max_length=10, description="First day, YYYY-MM-DD"),
    "until": Query("", max_length=10, description="Last day, YYYY-MM-DD"),
}


@router.get("/admin/audit", response_class=HTMLResponse, summary="Admin: the audit trail", dependencies=[admins])
def audit_page(request: Request, actor: str = _AUDIT_PARAMS["actor"], action: str = _AUDIT_PARAMS["action"],
               doc: str = _AUDIT_PARAMS["doc"], since: str = _AUDIT_PARAMS["since"],
               until: str = _AUDIT_PARAMS["until"], page: int = Query(1, ge=1, le=100_000)) -> Response:
    admin = state_of(request)
    admin.ledger.sync()
    params = {"actor": actor, "action": action, "doc": doc, "since": since, "until": until}
    try:
        where = _audit_filter(**params)
    except StoreError as err:
        return _render(request, "admin_audit.html", 400, error=str(err), rows=[], total=0, page=1, pages=1,
                       params=params, choices=admin.ledger.choices(), query="", section="audit", names={},
                       notice="")
    total, rows = admin.ledger.audit(where, limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    names = admin.ledger.doc_names(sorted({r.doc_id for r in rows if r.doc_id}))
    return _render(request, "admin_audit.html", error="", rows=rows, total=total, page=page,
                   pages=max(1, -(-total // AUDIT_PAGE)), params=params, choices=admin.ledger.choices(),
                   query=urlencode({k: v for k, v in params.items() if v}), section="audit", names=names,
                   notice="")


def _csv_cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/admin/audit.csv", summary="Admin: the audit trail as CSV (same filters)", dependencies=[admins])
def audit_csv(request: Request, actor: str = _AUDIT_PARAMS["actor"], action: str = _AUDIT_PARAMS["action"],
              doc: str = _AUDIT_PARAMS["doc"], since: str = _AUDIT_PARAMS["since"],
              until: str = _AUDIT_PARAMS["until"]) -> Response:
    ctx, admin, me = context_of(request), state_of(request), current_user(request)
    params = {"actor": actor, "action": action, "doc": doc, "since": since, "until": until}
    where = _audit_filter(**params)
    admin.ledger.sync(force=True)
    ctx.archive.audit_action(me.actor, "audit-export", None, filter={k: v for k, v in params.items() if v})

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["at", "actor", "action", "doc_id", "detail"])
        for row in admin.ledger.audit_all(where):
            writer.writerow([row.at.isoformat(), _csv_cell(row.actor), _csv_cell(row.action), row.doc_id or "",
                             _csv_cell(row.detail)])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"audit-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/api/admin/audit", summary="Admin: the audit trail (JSON, paged)", dependencies=[admins])
def api_audit(request: Request, actor: str = _AUDIT_PARAMS["actor"], action: str = _AUDIT_PARAMS["action"],
              doc: str = _AUDIT_PARAMS["doc"], since: str = _AUDIT_PARAMS["since"],
              until: str = _AUDIT_PARAMS["until"], limit: int = Query(50, ge=1, le=1000),
              offset: int = Query(0, ge=0)) -> Any:
    admin = state_of(request)
    admin.ledger.sync()
    try:
        where = _audit_filter(actor, action, doc, since, until)
    except StoreError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    total, rows = admin.ledger.audit(where, limit=limit, offset=offset)
    return {"total": total, "events": [r.public() for r in rows]}


# ----------------------------------------------------------------------------- coding schemas


def _schema_fields(data: Any) -> list[dict[str, str]]:
    """The fields of a coding schema, whatever its exact layout: a ``fields`` list of tables,
    or a ``fields`` table of name -> spec."""
    raw = data.get("fields") if isinstance(data, dict) else None
    items: list[tuple[str, Any]] = []
    if isinstance(raw, list):
        items = [(str(f.get("name", f.get("id", "?"))) if isinstance(f, dict) else str(f), f) for f in raw]
    elif isinstance(raw, dict):
        items = list(raw.items())
    out = []
    for name, spec in items:
        spec = spec if isinstance(spec, dict) else {}
        choices = spec.get("choices") or spec.get("picklist") or spec.get("values") or []
        out.append({"name": name, "type": str(spec.get("type", "")), "label": str(spec.get("label", "")),
                    "required": "yes" if spec.get("required") else "",
                    "choices": ", ".join(str(c.get("value", c)) if isinstance(c, dict) else str(c)
                                         for c in choices)[:300] if isinstance(choices, list) else str(choices)})
    return out


def schema_listing(folder: Path) -> list[dict[str, Any]]:
    """Every schema file in ``folder`` (TOML or JSON) with its fields; unreadable ones say why."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".toml", ".json", ".yaml", ".yml") or not path.is_file():
            continue
        entry: dict[str, Any] = {"file": path.name, "name": path.stem, "fields": [], "error": ""}
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(text)
            elif path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                data = None
                entry["error"] = "YAML schemas are listed but not read here"
            if isinstance(data, dict):
                entry["name"] = str(data.get("title") or data.get("name") or path.stem)
                entry["fields"] = _schema_fields(data)
        except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
            entry["error"] = f"cannot be read: {err}".splitlines()[0]
        out.append(entry)
    return out


@router.get("/admin/schemas", response_class=HTMLResponse, summary="Admin: coding schemas (read-only)",
            dependencies=[admins])
def schemas_page(request: Request) -> Response:
    folder = state_of(request).schemas_dir
    return _render(request, "admin_schemas.html", schemas=schema_listing(folder), folder_exists=folder.is_dir(),
                   section="schemas", error="", notice="")


@router.get("/api/admin/schemas", summary="Admin: coding schemas and their fields (JSON)", dependencies=[admins])
def api_schemas(request: Request) -> Any:
    return {"schemas": schema_listing(state_of(request).schemas_dir)}

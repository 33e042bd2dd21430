"""Admin pages (users, threshold, holds and retention, audit trail, schemas) and the KPI
dashboard: their computations on a constructed fixture, CSRF on every change, auditing."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecm.document import DocType, Document, FieldValue, Page
from ecm.settings import SettingsStore
from store import Archive, FsBlobStore
from store.archive import AuditEvent
from tests.test_web import (  # noqa: F401 - fixtures
    XSS, anon, app, archive, client_as, fake_ingest, index, pdf_doc, users,
)
from web.admin import schema_listing
from web.batches import BatchStore
from web.dashboard import bar_chart, compute_kpis, percentile
from ecm.db import database_path
from web.ledger import Ledger, doc_stats_row
from web.reviews import ReviewLog

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def _csrf(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


# ----------------------------------------------------------------------------- the ledger and KPIs


def _doc(n: int, *, conf: float, pages: int = 1, fields: dict | None = None, doc_type: str | None = "invoice",
         problems: list[str] | None = None) -> Document:
    return Document(
        source=f"/in/doc-{n}.pdf", sha256=f"{n:02x}" * 32, media_type="application/pdf",
        pages=[Page(number=i + 1, width=612, height=792, unit="pt", source="text") for i in range(pages)],
        doc_type=DocType(label=doc_type, confidence=conf) if doc_type else None,
        fields=fields if fields is not None else {
            "vendor_name": FieldValue(value="Acme", confidence=conf), "total_amount": FieldValue(value="1.00", confidence=0.99),
            "invoice_date": FieldValue(value="2026-01-01", confidence=0.99)},
        problems=problems or [],
    )


def _event(archive: Archive, at: datetime, actor: str, action: str, doc_id: str | None, **detail) -> None:
    archive.audit(AuditEvent(at=at, actor=actor, action=action, doc_id=doc_id, detail=detail))


@pytest.fixture()
def fixture_store(tmp_path: Path):
    """Six documents stored on known days, one accepted by a reviewer, two quarantined inputs
    and a mailroom batch with known upload -> stored times."""
    archive = Archive(FsBlobStore(tmp_path / "fx-store"))
    db = database_path(tmp_path / "fx-home")
    ingest_days = [NOW - timedelta(days=d) for d in (0, 0, 1, 3, 40, 2)]
    docs = [
        _doc(1, conf=0.95, pages=2),          # straight through
        _doc(2, conf=0.95, pages=3),          # straight through
        _doc(3, conf=0.50),                   # low confidence: backlog
        _doc(4, conf=0.70),                   # below 0.8, above 0.6
        _doc(5, conf=0.95, fields={}),        # required fields missing: structural, backlog (stored 40 days ago)
        _doc(6, conf=0.40),                   # low, but accepted below
    ]
    saved = []
    for doc, when in zip(docs, ingest_days):
        doc = archive.save(doc, actor="system", action="ingest")
        saved.append(doc)
    # Move every ingest event to its day (the archive stamps "now"): rewrite the audit folder.
    for key in list(archive.blobs.keys("audit/")):
        archive.blobs.delete(key)
    for doc, when in zip(saved, ingest_days):
        _event(archive, when, "system", "ingest", doc.id, version=1)
    accepted_doc = saved[5]
    reviewed = accepted_doc.model_copy(update={
        "doc_type": accepted_doc.doc_type.model_copy(update={"confidence": 1.0, "source": "user:rita"}),
        "fields": {k: v.model_copy(update={"confidence": 1.0, "source": "user:rita"})
                   for k, v in accepted_doc.fields.items()}})
    reviewed = archive.save(reviewed, actor="user:rita", action="accept")
    reviews = ReviewLog(db)
    reviews.accept(reviewed.id, reviewed.version, "rita")
    _event(archive, NOW - timedelta(days=1), "system", "quarantine", None, reason="not a PDF or image")
    _event(archive, NOW - timedelta(days=2), "system", "quarantine", None, reason="not a PDF or image")
    _event(archive, NOW - timedelta(days=2), "system", "quarantine", None, reason="encrypted PDF")
    _event(archive, NOW - timedelta(days=50), "system", "quarantine", None, reason="too old to count")
    batches = BatchStore(db)
    batches.create("b-20260310-000000-00000001", "mailroom", [("a.pdf", "/x/a", 1), ("b.pdf", "/x/b", 1),
                                                              ("c.pdf", "/x/c", 1)])
    import sqlite3
    with sqlite3.connect(db) as conn:
        created = NOW.timestamp() - 3600
        conn.execute("UPDATE batches SET created_at = ?", (created,))
        for seq, seconds, status in ((1, 10, "stored"), (2, 30, "stored"), (3, 600, "quarantined")):
            conn.execute("UPDATE batch_items SET status = ?, updated_at = ? WHERE seq = ?", (status, created + seconds, seq))
    ledger = Ledger(db, archive, min_interval_s=0)
    return archive, ledger, reviews, saved


def test_doc_stats_row_splits_the_review_rule():
    row = doc_stats_row({"doc_type": {"label": "invoice", "confidence": 0.9, "source": "classify"},
                         "fields": {"vendor_name": {"value": "A", "confidence": 0.55, "source": "extract"},
                                    "total_amount": {"value": "1", "confidence": 0.1, "source": "user:ann"}},
                         "problems": [], "page_count": 2, "version": 3, "source": "/a/b.pdf"})
    assert row["min_conf"] == 0.55 and row["touched"] == 1 and row["pages"] == 2 and row["name"] == "b.pdf"
    assert row["structural"] == 1  # invoice_date (required for invoices) is missing
    assert doc_stats_row({"fields": {}, "source": "x"})["structural"] == 1  # unclassified


def test_kpis_on_a_constructed_fixture(fixture_store):
    archive, ledger, reviews, saved = fixture_store
    ledger.sync(force=True)
    kpis = compute_kpis(ledger, ledger.path, threshold=0.8, accepted=reviews.accepted(), now=NOW)
    assert kpis.documents == 6
    # Straight through: 1 and 2 only (4 is below 0.8, 5 misses fields, 3 is low, 6 was touched by a person).
    assert kpis.straight_through == 2 and kpis.straight_through_rate == pytest.approx(2 / 6)
    assert kpis.backlog == 3  # 3, 4 and 5; 6 was accepted
    assert kpis.backlog_oldest == NOW - timedelta(days=40)
    by_day = {d["day"]: d for d in kpis.days}
    assert len(kpis.days) == 30 and kpis.days[-1]["day"] == "2026-03-10"
    assert by_day["2026-03-10"] == {"day": "2026-03-10", "documents": 2, "pages": 5}
    assert by_day["2026-03-09"]["documents"] == 1 and by_day["2026-03-07"]["documents"] == 1
    assert sum(d["documents"] for d in kpis.days) == 5  # the one from 40 days ago is outside
    assert kpis.turnaround_count == 2 and kpis.turnaround_p50_s == 10 and kpis.turnaround_p95_s == 30
    assert kpis.quarantined == 3
    assert kpis.quarantine_reasons == [("not a PDF or image", 2), ("encrypted PDF", 1)]
    # A lower threshold: 4 (at 0.70) passes straight through, the backlog shrinks.
    lower = compute_kpis(ledger, ledger.path, threshold=0.6, accepted=reviews.accepted(), now=NOW)
    assert lower.straight_through == 3 and lower.backlog == 2
    json.dumps(kpis.public())  # JSON-able


def test_ledger_sync_is_incremental_and_tracks_holds(fixture_store):
    archive, ledger, _, saved = fixture_store
    first = ledger.sync(force=True)
    assert first >= 10
    assert ledger.sync(force=True) == 0  # nothing new: nothing read again
    archive.hold(saved[0].id, True, "cli")
    archive.retain(saved[1].id, datetime(2040, 1, 1, tzinfo=timezone.utc), "user:admin")
    assert ledger.sync(force=True) == 2
    rows = {r.doc_id: r for r in ledger.holds()}
    assert rows[saved[0].id].hold and rows[saved[0].id].changed_by == "cli"
    assert rows[saved[1].id].retain_until.startswith("2040-01-01") and not rows[saved[1].id].hold
    archive.hold(saved[0].id, False, "cli")
    ledger.sync(force=True)
    assert saved[0].id not in {r.doc_id for r in ledger.holds()}


def test_percentile_and_chart():
    assert percentile([], 50) is None
    assert percentile([5, 1, 3], 50) == 3 and percentile(list(range(1, 101)), 95) == 95
    chart = bar_chart([{"day": "d1", "documents": 0}, {"day": "d2", "documents": 4}], "documents", width=100, height=50)
    assert chart["top"] == 4 and chart["bars"][1].height == 50 and chart["bars"][0].height == 0


# ----------------------------------------------------------------------------- pages


def test_dashboard_page_and_api(app, pdf_doc):
    admin = client_as(app, "admin")
    r = admin.get("/dashboard")
    assert r.status_code == 200
    assert "Straight-through rate" in r.text and "<svg" in r.text and "<script" not in r.text
    data = admin.get("/api/dashboard").json()
    assert data["documents"] == 1 and len(data["days"]) == 30 and data["backlog"] == 1  # total at 41%
    assert client_as(app, "reviewer").get("/dashboard").status_code == 200  # read-only for reviewers
    assert client_as(app, "clerk").get("/dashboard").status_code == 403


def test_users_add_change_disable_reset_are_audited(app, archive, users):
    admin = client_as(app, "admin")
    page = admin.get("/admin/users")
    csrf = _csrf(page.text)
    assert admin.post("/admin/users", data={"name": "ann", "role": "clerk"}).status_code == 403  # no CSRF
    r = admin.post("/admin/users", data={"csrf": csrf, "name": "ann", "role": "reviewer"})
    assert r.status_code == 200 and "Password for ann" in r.text
    password = re.search(r'id="new-password">([^<]+)<', r.text).group(1)
    assert users.authenticate("ann", password).role.value == "reviewer"
    r = admin.post("/admin/users", data={"csrf": csrf, "name": f"x{XSS}", "role": "clerk"})
    assert r.status_code == 400 and "<script>" not in r.text and "bad user name" in r.text
    assert admin.post("/admin/users/change", data={"csrf": csrf, "name": "ann", "action": "role",
                                                   "role": "coder"}).status_code == 200
    assert users.by_name("ann").role.value == "coder"
    assert admin.post("/admin/users/change", data={"csrf": csrf, "name": "ann", "action": "disable"}).status_code == 200
    assert users.by_name("ann").disabled
    admin.post("/admin/users/change", data={"csrf": csrf, "name": "ann", "action": "enable"})
    r = admin.post("/admin/users/change", data={"csrf": csrf, "name": "ann", "action": "password"})
    assert "Password for ann" in r.text
    # An admin cannot lock themselves out.
    r = admin.post("/admin/users/change", data={"csrf": csrf, "name": "admin", "action": "disable"})
    assert r.status_code == 400 and not users.by_name("admin").disabled
    r = admin.post("/admin/users/change", data={"csrf": csrf, "name": "admin", "action": "role", "role": "clerk"})
    assert r.status_code == 400 and users.by_name("admin").role.value == "admin"
    actions = [e.action for e in archive.events() if e.actor == "user:admin"]
    for action in ("user-add", "user-role", "user-disable", "user-enable", "user-password"):
        assert action in actions
    assert {u["name"] for u in admin.get("/api/admin/users").json()["users"]} >= {"ann", "admin"}


def test_threshold_override_is_stored_used_and_previewed(app, archive, pdf_doc, tmp_path):
    admin = client_as(app, "admin")
    default = app.state.ecm.config.review.threshold  # from the configuration
    page = admin.get("/admin/thresholds")
    assert page.status_code == 200 and f'id="current-threshold">{default:.0%}' in page.text
    # pdf_doc has a validation problem: it needs review at any threshold.
    info = admin.get("/api/admin/thresholds").json()
    by_value = {p["threshold"]: p["backlog"] for p in info["preview"]}
    assert by_value[0.5] == 1 and info["stored"] is None
    csrf = _csrf(page.text)
    r = admin.post("/admin/thresholds", data={"csrf": csrf, "threshold": "1.5"})
    assert r.status_code == 400 and "between 0 and 1" in r.text
    r = admin.post("/admin/thresholds", data={"csrf": csrf, "threshold": "0.4"})
    assert r.status_code == 200 and "now 40%" in r.text
    assert app.state.ecm.config.review.threshold == 0.4
    assert SettingsStore(database_path(tmp_path)).threshold() == 0.4
    assert admin.get("/api/dashboard").json()["threshold"] == 0.4  # the dashboard uses it at once
    assert "threshold" in [e.action for e in archive.events()]
    trial = admin.get("/admin/thresholds?trial=0.45")
    assert trial.status_code == 200 and 'class="trial"' in trial.text
    admin.post("/admin/thresholds", data={"csrf": csrf, "reset": "1"})
    assert app.state.ecm.config.review.threshold == default


def test_threshold_pinned_by_the_environment_is_not_changed_here(app, tmp_path, monkeypatch):
    admin = client_as(app, "admin")
    monkeypatch.setenv("ECM_REVIEW_THRESHOLD", "0.7")
    page = admin.get("/admin/thresholds")
    assert page.status_code == 200 and "set by ECM_REVIEW_THRESHOLD" in page.text
    before = app.state.ecm.config.review.threshold
    r = admin.post("/admin/thresholds", data={"csrf": _csrf(page.text), "threshold": "0.4"})
    assert r.status_code == 409 and "remove the variable and restart" in r.text
    assert app.state.ecm.config.review.threshold == before
    assert SettingsStore(database_path(tmp_path)).threshold() is None
    assert admin.get("/api/admin/thresholds").json()["pinned"] == "ECM_REVIEW_THRESHOLD"


def test_hold_and_retain_through_the_admin_page(app, archive, pdf_doc):
    admin = client_as(app, "admin")
    page = admin.get("/admin/holds")
    assert "No document is on legal hold" in page.text
    csrf = _csrf(page.text)
    # Without the token: refused, nothing held.
    assert admin.post("/admin/holds", data={"doc_id": pdf_doc.id, "action": "hold"}).status_code == 403
    assert not archive.holds(pdf_doc.id)["hold"]
    r = admin.post("/admin/holds", data={"csrf": csrf, "doc_id": pdf_doc.id, "action": "hold"}, follow_redirects=False)
    assert r.status_code == 303 and archive.holds(pdf_doc.id)["hold"]
    page = admin.get("/admin/holds")
    assert f'id="held-{pdf_doc.id}"' in page.text and "on hold" in page.text and "weird" in page.text
    later = (date.today() + timedelta(days=3650)).isoformat()
    r = admin.post("/admin/holds", data={"csrf": csrf, "doc_id": pdf_doc.id, "action": "retain", "until": later,
                                         "next": "doc"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/doc/{pdf_doc.id}")
    assert archive.holds(pdf_doc.id)["retain_until"].startswith(later)
    # Shortening retention is refused, with the reason on the page.
    sooner = (date.today() + timedelta(days=10)).isoformat()
    r = admin.post("/admin/holds", data={"csrf": csrf, "doc_id": pdf_doc.id, "action": "retain", "until": sooner})
    assert r.status_code == 400 and "can only be extended" in r.text
    r = admin.post("/admin/holds", data={"csrf": csrf, "doc_id": "0123456789abcdef", "action": "hold"})
    assert r.status_code == 404 and "no document" in r.text.lower()
    r = admin.post("/admin/holds", data={"csrf": csrf, "doc_id": pdf_doc.id, "action": "retain", "until": "soon"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.text
    # The document view shows the state to admins (with the forms), not to clerks.
    view = admin.get(f"/doc/{pdf_doc.id}")
    assert "on legal hold" in view.text and "Release hold" in view.text
    assert "Legal hold and retention" not in client_as(app, "clerk").get(f"/doc/{pdf_doc.id}").text
    held = admin.get("/api/admin/holds").json()["documents"]
    assert held[0]["doc_id"] == pdf_doc.id and held[0]["hold"] and held[0]["changed_by"] == "user:admin"
    admin.post("/admin/holds", data={"csrf": csrf, "doc_id": pdf_doc.id, "action": "release"})
    assert not archive.holds(pdf_doc.id)["hold"]
    actions = [e.action for e in archive.events(doc_id=pdf_doc.id)]
    assert "hold" in actions and "retain" in actions and "release" in actions


def test_audit_trail_filter_paging_and_csv(app, archive, pdf_doc):
    admin = client_as(app, "admin")
    for i in range(60):
        archive.audit_action("user:clerk", "view", pdf_doc.id, n=i)
    archive.audit_action("user:mallory", "download", pdf_doc.id, what=f"=HYPERLINK(\"x\") {XSS}")
    r = admin.get("/admin/audit", params={"actor": "clerk", "action": "view"})
    assert r.status_code == 200 and "60 events" in r.text and "page 1 of 2" in r.text
    assert admin.get("/admin/audit", params={"actor": "clerk", "action": "view", "page": 2}).text.count("<tr>") == 10 + 1
    r = admin.get("/admin/audit", params={"actor": "mallory"})
    assert "1 event" in r.text and "<script>" not in r.text and "&lt;script&gt;" in r.text
    today = date.today().isoformat()
    api = admin.get("/api/admin/audit", params={"doc": pdf_doc.id, "since": today, "until": today, "limit": 5}).json()
    assert api["total"] >= 62 and len(api["events"]) == 5
    assert admin.get("/api/admin/audit", params={"since": "yesterday"}).status_code == 400
    assert admin.get("/api/admin/audit", params={"since": "2000-01-01", "until": "2000-01-02"}).json()["total"] == 0
    r = admin.get("/admin/audit.csv", params={"actor": "mallory"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["at", "actor", "action", "doc_id", "detail"] and len(rows) == 2
    assert rows[1][1] == "user:mallory" and rows[1][3] == pdf_doc.id
    assert not rows[1][4].startswith("=")  # detail is JSON; a formula-looking cell would be quoted
    assert "audit-export" in [e.action for e in archive.events()]
    assert client_as(app, "reviewer").get("/admin/audit.csv").status_code == 403


def test_csv_cells_cannot_be_formulas():
    from web.admin import _csv_cell
    assert _csv_cell("=1+1") == "'=1+1" and _csv_cell("@x") == "'@x" and _csv_cell("ok") == "ok"


def test_schema_listing(tmp_path):
    assert schema_listing(tmp_path / "missing") == []
    (tmp_path / "a.toml").write_text('title = "Manual A"\n[[fields]]\nname = "privilege"\ntype = "picklist"\n'
                                     'required = true\nchoices = ["None", "Attorney-client"]\n')
    (tmp_path / "b.json").write_text(json.dumps({"name": "b", "fields": {"issue": {"type": "multi_picklist"}}}))
    (tmp_path / "c.toml").write_text("not = [valid")
    listing = {s["file"]: s for s in schema_listing(tmp_path)}
    assert listing["a.toml"]["name"] == "Manual A"
    assert listing["a.toml"]["fields"][0] == {"name": "privilege", "type": "picklist", "label": "",
                                              "required": "yes", "choices": "None, Attorney-client"}
    assert listing["b.json"]["fields"][0]["name"] == "issue"
    assert listing["c.toml"]["error"].startswith("cannot be read")


def test_schemas_page_lists_the_real_folder(app):
    r = client_as(app, "admin").get("/admin/schemas")
    assert r.status_code == 200 and "Coding schemas" in r.text
    assert client_as(app, "admin").get("/api/admin/schemas").status_code == 200

"""The KPI dashboard (admins; reviewers read-only): documents and pages per day, the
straight-through rate, the review backlog, the mailroom's turnaround (upload -> searchable)
and quarantine reasons.

Computed from the ledger (``web.ledger``: audit events and one row per document) and the
mailroom's ``batch_items`` table, all in SQLite, and cached for a minute: the page costs a few
queries, not a scan of the store.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from web.access import ADMINS, DASHBOARD, current_user, may, require
from web.context import context_of
from ecm.db import connect
from web.ledger import Ledger

__all__ = ["router", "Kpis", "compute_kpis", "percentile", "bar_chart", "KpiCache", "DAYS"]

router = APIRouter()
DAYS = 30
CACHE_SECONDS = 60.0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Kpis:
    computed_at: datetime
    threshold: float
    days: list[dict[str, Any]]  # {"day": "YYYY-MM-DD", "documents": n, "pages": n}, oldest first
    documents: int  # documents in the archive (ok ones)
    straight_through: int
    straight_through_rate: float | None  # straight_through / documents
    backlog: int
    backlog_oldest: datetime | None
    turnaround_p50_s: float | None
    turnaround_p95_s: float | None
    turnaround_count: int
    quarantined: int
    quarantine_reasons: list[tuple[str, int]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["computed_at"] = self.computed_at.isoformat()
        data["backlog_oldest"] = self.backlog_oldest.isoformat() if self.backlog_oldest else None
        data["quarantine_reasons"] = [{"reason": r, "count": n} for r, n in self.quarantine_reasons]
        return data


def _day_start(day: date) -> float:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).timestamp()


def compute_kpis(ledger: Ledger, db_path: Path, threshold: float, accepted: dict[str, int],
                 now: datetime | None = None, days: int = DAYS) -> Kpis:
    """The dashboard's numbers. ``now`` fixes "today" (tests); days are UTC days."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(timezone.utc).date()
    first = today - timedelta(days=days - 1)
    start = _day_start(first)
    with connect(db_path) as db:
        per_day = {r[0]: (r[1], r[2] or 0) for r in db.execute(
            "SELECT date(stored_at, 'unixepoch'), COUNT(*), SUM(pages) FROM doc_stats "
            "WHERE stored_at >= ? AND stored_at < ? GROUP BY 1", (start, _day_start(today) + 86400))}
        turnaround = [r[0] for r in db.execute(
            "SELECT i.updated_at - b.created_at FROM batch_items i JOIN batches b ON b.id = i.batch_id "
            "WHERE i.status = 'stored' AND i.updated_at >= ?", (start,))] if _has_batches(db) else []
        quarantined = db.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'quarantine' AND at >= ?",
                                 (start,)).fetchone()[0]
        reasons = [(r[0] or "(no reason given)", r[1]) for r in db.execute(
            "SELECT substr(json_extract(detail, '$.reason'), 1, 160) AS reason, COUNT(*) AS n FROM audit_events "
            "WHERE action = 'quarantine' AND at >= ? GROUP BY reason ORDER BY n DESC, reason LIMIT 5", (start,))]
    series = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        documents, pages = per_day.get(day, (0, 0))
        series.append({"day": day, "documents": documents, "pages": pages})
    review = ledger.review_counts(threshold, accepted)
    total = review["documents"]
    durations = [max(0.0, d) for d in turnaround]
    return Kpis(
        computed_at=now, threshold=threshold, days=series, documents=total,
        straight_through=review["straight_through"],
        straight_through_rate=review["straight_through"] / total if total else None,
        backlog=review["backlog"], backlog_oldest=review["oldest"],
        turnaround_p50_s=percentile(durations, 50), turnaround_p95_s=percentile(durations, 95),
        turnaround_count=len(durations), quarantined=quarantined, quarantine_reasons=reasons,
    )


def _has_batches(db: Any) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batch_items'").fetchone() is not None


class KpiCache:
    """The last computation, kept ``CACHE_SECONDS`` (per threshold)."""

    def __init__(self, seconds: float = CACHE_SECONDS):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: tuple[float, float, Kpis] | None = None

    def get(self, threshold: float, compute) -> Kpis:
        with self._lock:
            if self._value and self._value[1] == threshold and time.monotonic() - self._value[0] < self.seconds:
                return self._value[2]
        kpis = compute()
        with self._lock:
            self._value = (time.monotonic(), threshold, kpis)
        return kpis

    def clear(self) -> None:
        with self._lock:
            self._value = None


# ----------------------------------------------------------------------------- the chart


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the tooltip
    day: str
    value: int


def bar_chart(series: list[dict[str, Any]], key: str, width: float = 1000, height: float = 150) -> dict[str, Any]:
    """Geometry of an inline SVG bar chart (no JavaScript): bars, the top value and the
    first/last day labels. The template draws it."""
    top = max((d[key] for d in series), default=0) or 1
    step = width / max(1, len(series))
    bars = []
    for i, d in enumerate(series):
        h = round(height * d[key] / top, 2)
        bars.append(Bar(x=round(i * step + step * 0.12, 2), y=round(height - h, 2), width=round(step * 0.76, 2),
                        height=h, label=f"{d['day']}: {d[key]} {key}", day=d["day"], value=d[key]))
    return {"bars": bars, "top": top, "width": width, "height": height,
            "first": series[0]["day"] if series else "", "last": series[-1]["day"] if series else "",
            "total": sum(d[key] for d in series)}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# ----------------------------------------------------------------------------- routes


def current_kpis(request: Request) -> Kpis:
    ctx = context_of(request)
    admin = request.app.state.admin
    threshold = ctx.config.review.threshold

    def compute() -> Kpis:
        admin.ledger.sync()
        return compute_kpis(admin.ledger, admin.ledger.path, threshold, ctx.reviews.accepted())

    return admin.kpis.get(threshold, compute)


@router.get("/dashboard", response_class=HTMLResponse, summary="KPI dashboard",
            dependencies=[Depends(require(*DASHBOARD))])
def dashboard_page(request: Request) -> Response:
    kpis = current_kpis(request)
    user = current_user(request)
    return context_of(request).templates.TemplateResponse(request, "dashboard.html", {
        "k": kpis, "docs_chart": bar_chart(kpis.days, "documents"), "pages_chart": bar_chart(kpis.days, "pages"),
        "duration": duration, "is_admin": may(user, ADMINS), "cache_seconds": int(CACHE_SECONDS),
    })


@router.get("/api/dashboard", summary="KPIs as JSON (cached for a minute)",
            dependencies=[Depends(require(*DASHBOARD))])
def api_dashboard(request: Request) -> Any:
    """Documents and pages per day (last 30 days), straight-through rate, review backlog
    (count, oldest), turnaround upload -> searchable (p50/p95 seconds) and quarantine reasons."""
    return current_kpis(request).public()

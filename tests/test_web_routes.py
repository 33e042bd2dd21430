"""Every route of the app, with every role and anonymously: allowed roles get through, the
others are refused with 403; anonymous visitors are sent to sign in (401 for the API)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.test_web import (  # noqa: F401 - fixtures
    FakeIndex, anon, app, archive, fake_ingest, index, pdf_doc, users,
)
from web.access import csrf_checked
from web.auth import SESSION_COOKIE, SessionSigner
from web.signin import OPEN_PATHS
from web.users import Role

SELF_CHECKED_CSRF = {"/mailroom/upload"}  # reads the body as a stream: checks the token itself


def _roles(route: APIRoute) -> frozenset[Role] | None:
    found = [d.call.roles for d in route.dependant.dependencies if hasattr(d.call, "roles")]
    assert len(found) <= 1, f"{route.path} declares roles twice"
    return found[0] if found else None


def _flat(routes) -> list:
    """The app's routes; routers included without a prefix are walked into (FastAPI keeps
    them as one entry each)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out.extend(_flat(inner.routes) if inner is not None else [route])
    return out


def _routes(app) -> list[tuple[str, str, APIRoute]]:
    out = []
    for route in _flat(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        assert isinstance(route, APIRoute), f"{route.path}: every route must be an APIRoute with declared roles"
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, route.path, route))
    return out


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


@pytest.fixture()
def batch_id(app) -> str:
    batch = app.state.ecm.batches.create("b-20260101-000000-0123abcd", "mailroom", [("a.pdf", "/nonexistent/a.pdf", 3)])
    return batch.id


def test_every_route_declares_roles_and_posts_check_csrf(app):
    routes = _routes(app)
    assert len(routes) >= 20
    for method, path, route in routes:
        if path in OPEN_PATHS:
            assert _roles(route) is None, path
            continue
        assert _roles(route), f"{method} {path} declares no roles (use Depends(require(...)))"
        if method != "GET" and path not in SELF_CHECKED_CSRF and path != "/signin":
            assert any(d.call is csrf_checked for d in route.dependant.dependencies), f"{method} {path}: no CSRF check"


def test_every_route_with_every_role(app, users, pdf_doc, batch_id):
    signer = SessionSigner(users.session_key())
    values = {"doc_id": pdf_doc.id, "number": "1", "batch_id": batch_id, "seq": "1"}
    checked = 0
    for method, path, route in _routes(app):
        if path in OPEN_PATHS:
            continue
        url = _fill(path, values)
        allowed = _roles(route)
        for role in Role:
            user = users.by_name(role.value)
            cookie = signer.new_cookie(user.id, user.epoch)
            csrf = signer.csrf_token(signer.read_cookie(cookie))
            c = TestClient(app, follow_redirects=False)
            c.cookies.set(SESSION_COOKIE, cookie)
            if method == "GET":
                r = c.get(url)
            else:
                r = c.post(url, data={"csrf": csrf}, headers={"x-csrf-token": csrf})
            if role in allowed:
                assert r.status_code not in (401, 403), (method, url, role, r.status_code, r.text[:300])
            else:
                assert r.status_code == 403, (method, url, role, r.status_code)
                assert "Your role" in r.text
            checked += 1
        # Anonymous: pages go to the sign-in page, the API and forms answer 401.
        c = TestClient(app, follow_redirects=False)
        r = c.get(url) if method == "GET" else c.post(url, data={})
        if method == "GET" and not (url.startswith("/api/") or url == "/openapi.json"):
            assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), (method, url)
        else:
            assert r.status_code == 401, (method, url, r.status_code)
    assert checked >= 20 * len(Role)


def test_posts_without_csrf_are_refused_for_allowed_roles(app, users, pdf_doc, batch_id):
    signer = SessionSigner(users.session_key())
    admin = users.by_name("admin")
    values = {"doc_id": pdf_doc.id, "number": "1", "batch_id": batch_id, "seq": "1"}
    for method, path, _ in _routes(app):
        if method == "GET" or path in OPEN_PATHS:
            continue
        c = TestClient(app, follow_redirects=False)
        c.cookies.set(SESSION_COOKIE, signer.new_cookie(admin.id, admin.epoch))
        url = _fill(path, values)
        r = c.post(url, data={"csrf": "forged"})
        assert r.status_code == 403, (url, r.status_code)
        if path in SELF_CHECKED_CSRF:
            r = c.post(url, files={"files": ("a.pdf", b"%PDF-1.4 x")}, data={"csrf": "forged"})
            assert r.status_code == 403, url

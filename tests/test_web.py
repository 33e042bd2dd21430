"""The web UI and HTTP API on a temporary store and a fake index (no network, no OCR)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image
from argon2 import PasswordHasher
from httpx import Response
from pydantic import BaseModel, Field
from types import SimpleNamespace

from ecm.config import Config
from ecm.document import DocType, Document, FieldValue, Page, Word
from ecm.errors import QuerySyntaxError
from store import Archive, FsBlobStore
from web.app import create_app
from web.auth import SESSION_COOKIE, SessionSigner, safe_next_path
from web.files import content_disposition
from web.page_images import overlay_box
from web.security import SECURITY_HEADERS
from web.users import MAX_FAILURES, Role, UserStore

XSS = "<script>alert(1)</script>"
ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- fixtures


class FakeHit(BaseModel):
    id: str
    sha256: str
    source: str
    doc_type: str | None
    score: float
    snippet: str
    page: int | None = None
    fields: dict[str, str | list[str]] = Field(default_factory=dict)


class FakeHits(BaseModel):
    total: int
    hits: list[FakeHit]
    took_ms: float


class FakeIndex:
    """Answers every query with the given hits; ``bad`` raises like a real parser would."""

    def __init__(self, hits: list[FakeHit]):
        self.hits = hits
        self.queries: list[tuple[str, int, int]] = []
        self.added: list[Document] = []

    def add(self, docs) -> None:
        self.added.extend(docs)

    def search(self, query: str, limit: int = 10, offset: int = 0) -> FakeHits:
        self.queries.append((query, limit, offset))
        if query.startswith("bad"):
            raise QuerySyntaxError("missing ')' for the '(' at position 5: close the group <b>")
        if query == "nothing":
            return FakeHits(total=0, hits=[], took_ms=0.4)
        return FakeHits(total=len(self.hits) + 40, hits=self.hits[offset:offset + limit], took_ms=3.2)


def _pdf_bytes(lines: list[str]) -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_creation_date(__import__("datetime").datetime(2024, 1, 1, tzinfo=__import__("datetime").timezone.utc))
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 16, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _store(archive: Archive, data: bytes, doc: Document) -> Document:
    sha = hashlib.sha256(data).hexdigest()
    archive.put_original(sha, data)
    return archive.save(doc.model_copy(update={"sha256": sha, "size": len(data)}), actor="test", action="ingest")


@pytest.fixture()
def archive(tmp_path: Path) -> Archive:
    return Archive(FsBlobStore(tmp_path / "store"))


@pytest.fixture()
def pdf_doc(archive: Archive) -> Document:
    data = _pdf_bytes(["ACME Supplies", "Invoice No INV-1", XSS])
    words = [
        Word(text="ACME", bbox=(72, 72, 110, 84), line=0),
        Word(text="Supplies", bbox=(113, 72, 160, 84), line=0),
        Word(text=XSS, bbox=(72, 104, 250, 116), line=2),
    ]
    doc = Document(
        source="/scans/in <b>box</b>/weird \"name\";\r\n.pdf", sha256="0" * 64, media_type="application/pdf",
        pages=[Page(number=1, width=612, height=792, unit="pt", source="text", words=words)],
        doc_type=DocType(label="invoice", confidence=0.93),
        fields={
            "vendor_name": FieldValue(value=f"ACME {XSS}", confidence=0.88, page=1, bbox=(72, 72, 160, 84),
                                      source="extract.consensus", read_as=f"ACMF {XSS}"),
            "total_amount": FieldValue(value="120.00", confidence=0.41, page=1, bbox=(400, 600, 460, 612)),
            "parties": FieldValue(value=["Larkspur", XSS], confidence=0.7),
        },
        problems=[f"total does not add up {XSS}"],
    )
    return _store(archive, data, doc)


@pytest.fixture()
def image_doc(archive: Archive) -> Document:
    buffer = io.BytesIO()
    Image.new("L", (600, 900), 255).save(buffer, format="PNG")
    data = buffer.getvalue()
    doc = Document(
        source="receipt.png", sha256="0" * 64, media_type="image/png",
        pages=[Page(number=1, width=600, height=900, unit="px", dpi=300, source="ocr",
                    words=[Word(text="TOTAL", bbox=(10, 10, 80, 30), conf=0.9)])],
        doc_type=DocType(label="receipt", confidence=0.8),
        fields={"total_amount": FieldValue(value="9.99", confidence=0.9, page=1, bbox=(300, 450, 600, 900))},
    )
    return _store(archive, data, doc)


@pytest.fixture()
def index(pdf_doc: Document) -> FakeIndex:
    hits = [FakeHit(id=pdf_doc.id, sha256=pdf_doc.sha256, source=pdf_doc.source, doc_type="invoice", score=7.25,
                    snippet="Invoice from <mark>ACME</mark> &lt;Supplies&gt;", page=1,
                    fields={"vendor_name": f"ACME {XSS}", "total_amount": "120.00"})]
    return FakeIndex(hits)


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: argon2 made cheap


def password_of(role: str) -> str:
    return f"password-of-{role}"


@pytest.fixture()
def users(tmp_path: Path) -> UserStore:
    """One user per role, named after the role (``clerk``, ``admin``, ...)."""
    store = UserStore(tmp_path / "ecm.sqlite", hasher=FAST_HASHER)
    for role in Role:
        store.add(role.value, role, password_of(role.value))
    return store


class FakeIngest:
    """Stands in for ecm.pipeline.ingest_paths: every file is 'stored' as a tiny document."""

    def __init__(self):
        self.calls: list[list[Path]] = []

    def __call__(self, paths, config, executor, archive, index, actor="system", split=False):
        self.calls.append(list(paths))
        for path in paths:
            data = Path(path).read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if data.startswith(b"bad"):
                doc = Document(source=str(path), sha256=sha, size=len(data)).quarantine("not a document (test)")
                archive.quarantine(doc, data, actor)
                yield SimpleNamespace(doc=doc, status="quarantined")
                continue
            doc = Document(source=str(path), sha256=sha, size=len(data), doc_type=DocType(label="invoice", confidence=0.9),
                           fields={"vendor_name": FieldValue(value=f"Vendor {XSS}", confidence=0.8)})
            archive.put_original(sha, data)
            doc = archive.save(doc, actor=actor, action="ingest")
            yield SimpleNamespace(doc=doc, status="stored")


@pytest.fixture()
def fake_ingest() -> FakeIngest:
    return FakeIngest()


@pytest.fixture()
def app(archive: Archive, index: FakeIndex, users: UserStore, tmp_path: Path, fake_ingest: FakeIngest):
    app = create_app(Config(home=tmp_path), archive, index, users, ingest=fake_ingest,
                     executor_factory=lambda config: None)
    yield app
    app.state.ecm.worker.stop()


@pytest.fixture()
def real_index(tmp_path: Path, pdf_doc: Document):
    """A real embedded index holding ``pdf_doc``: for pages that search (review queue, facets)."""
    from search import EmbeddedIndex

    index = EmbeddedIndex(tmp_path / "index")
    index.add([pdf_doc])
    return index


@pytest.fixture()
def real_app(archive: Archive, users: UserStore, tmp_path: Path, real_index):
    """The app over ``real_index`` instead of the fake one."""
    app = create_app(Config(home=tmp_path), archive, real_index, users, ingest=lambda *a, **k: iter(()),
                     executor_factory=lambda config: None)
    yield app
    app.state.ecm.worker.stop()


def sign_in(client: TestClient, name: str, password: str | None = None, next_path: str = "/") -> Response:
    page = client.get("/signin", params={"next": next_path})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/signin", data={"name": name, "password": password or password_of(name), "csrf": csrf,
                                        "next": next_path})


def session_csrf(client: TestClient) -> str:
    """The CSRF token of the client's session (from the sign-out form of any page)."""
    page = client.get("/docs")
    return re.search(r'action="/signout">\s*<input type="hidden" name="csrf" value="([^"]+)"', page.text).group(1)


def client_as(app, role: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    r = sign_in(c, role)
    assert r.status_code == 303, r.text
    return c


@pytest.fixture()
def anon(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture()
def client(app) -> TestClient:
    return client_as(app, "clerk")


# ----------------------------------------------------------------------------- sign-in


def test_unauthenticated_page_redirects_to_sign_in(anon):
    r = anon.get("/doc/0123456789abcdef?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=%2Fdoc%2F0123456789abcdef%3Fx%3D1"
    page = anon.get(r.headers["location"])
    assert page.status_code == 200
    assert 'action="/signin"' in page.text and 'name="csrf"' in page.text and 'name="password"' in page.text
    assert 'name="next" value="/doc/0123456789abcdef?x=1"' in page.text


def test_unauthenticated_api_is_401_json(anon, pdf_doc):
    for path in ("/api/search?q=acme", f"/api/documents/{pdf_doc.id}", "/openapi.json"):
        r = anon.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"].startswith("application/json")
        assert "error" in r.json()


def test_unauthenticated_downloads_and_images_are_refused(anon, pdf_doc):
    for path in (f"/doc/{pdf_doc.id}", f"/doc/{pdf_doc.id}/original", f"/doc/{pdf_doc.id}/page/1.png"):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?")
        assert b"%PDF" not in r.content and not r.content.startswith(b"\x89PNG")


def test_sign_in_sets_a_strict_http_only_cookie_and_goes_next(anon, users):
    r = sign_in(anon, "clerk", next_path="/?q=acme")
    assert r.status_code == 303 and r.headers["location"] == "/?q=acme"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Secure" not in cookie
    assert password_of("clerk") not in cookie
    session = SessionSigner(users.session_key()).read_cookie(anon.cookies[SESSION_COOKIE])
    assert session.user_id == users.by_name("clerk").id
    assert anon.get("/?q=acme").status_code == 200


def test_cookie_is_secure_over_https(app):
    c = TestClient(app, base_url="https://ecm.example", follow_redirects=False)
    r = sign_in(c, "clerk")
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_each_role_lands_on_its_page(app):
    for role, home in (("clerk", "/"), ("mailroom", "/mailroom"), ("reviewer", "/review"), ("admin", "/")):
        r = sign_in(TestClient(app, follow_redirects=False), role)
        assert r.headers["location"] == home, role


def test_wrong_password_is_rejected(anon, archive):
    r = sign_in(anon, "clerk", "wrong-password")
    assert r.status_code == 401 and SESSION_COOKIE not in r.cookies
    assert "Wrong user name or password" in r.text
    r = sign_in(anon, "nobody", "whatever-it-is")
    assert r.status_code == 401 and "Wrong user name or password" in r.text  # the same answer
    r = sign_in(anon, "clerk", "\u00e9t\u00e9-\u00e9t\u00e9-\u00e9t\u00e9")  # non-ASCII must not crash
    assert r.status_code == 401
    failed = [e for e in archive.events() if e.action == "signin-failed"]
    assert len(failed) == 3 and failed[0].actor == "user:clerk"


def test_account_locks_after_repeated_failures(anon, users):
    for _ in range(MAX_FAILURES):
        assert sign_in(anon, "coder", "wrong-password").status_code == 401
    r = sign_in(anon, "coder")  # the right password, but locked now
    assert r.status_code == 401 and "locked" in r.text
    users.set_password("coder", "a-new-password")  # an admin unlocks by setting a password
    assert sign_in(anon, "coder", "a-new-password").status_code == 303


def test_client_is_throttled_after_many_failures(app):
    c = TestClient(app, follow_redirects=False)
    app.state.signin_limiter.limit = 3
    for name in ("a1", "a2", "a3"):
        assert sign_in(c, name, "wrong-password").status_code == 401
    r = sign_in(c, "clerk")
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text


def test_disabled_user_cannot_sign_in_and_is_signed_out(app, users):
    c = client_as(app, "clerk")
    users.set_disabled("clerk")
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    r = sign_in(TestClient(app, follow_redirects=False), "clerk")
    assert r.status_code == 401 and "disabled" in r.text


def test_password_or_role_change_ends_sessions(app, users):
    c = client_as(app, "clerk")
    users.set_role("clerk", "reviewer")
    assert c.get("/").status_code == 303
    c = client_as(app, "clerk")
    assert c.get("/review").status_code == 200  # signed in again with the new role


def test_forged_cookie_is_refused(anon, users):
    anon.cookies.set(SESSION_COOKIE, "abc.1.1.1700000000.forgedmac")
    assert anon.get("/").status_code == 303
    other = SessionSigner()  # a cookie signed by another server (another key)
    anon.cookies.set(SESSION_COOKIE, other.new_cookie(users.by_name("admin").id, 1))
    assert anon.get("/").status_code == 303
    right = SessionSigner(users.session_key())
    anon.cookies.set(SESSION_COOKIE, right.new_cookie(users.by_name("admin").id, 1))
    assert anon.get("/").status_code == 200  # the same user id, signed with the right key


def test_sign_in_form_needs_csrf(anon):
    r = anon.post("/signin", data={"name": "clerk", "password": password_of("clerk"), "csrf": "forged", "next": "/"})
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
    r = sign_in(anon, "clerk", next_path="//evil.example/x")
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_sign_out_needs_the_session_csrf(client, archive):
    assert client.post("/signout", data={"csrf": "nope"}).status_code == 403
    r = client.post("/signout", data={"csrf": session_csrf(client)})
    assert r.status_code == 303
    assert any(e.action == "signout" and e.actor == "user:clerk" for e in archive.events())
    client.cookies.clear()
    assert client.get("/").status_code == 303


def test_safe_next_path():
    assert safe_next_path("/doc/abc?x=1") == "/doc/abc?x=1"
    for bad in ("https://evil", "//evil", "/\\evil", "", None, "/a\nb"):
        assert safe_next_path(bad) == "/"


def test_healthz_needs_no_sign_in(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_page_shows_who_is_signed_in_and_only_their_menu(app):
    html = client_as(app, "mailroom").get("/mailroom").text
    assert "mailroom</span>" in html and 'href="/mailroom"' in html
    assert 'href="/review"' not in html and '<a href="/">Search</a>' not in html
    r = client_as(app, "mailroom").get("/")
    assert r.status_code == 403 and "Your role (mailroom)" in r.text and 'href="/mailroom"' in r.text


# ----------------------------------------------------------------------------- search


def test_search_page_renders_hits_with_snippet_marks(client, index, pdf_doc):
    r = client.get("/?q=acme")
    assert r.status_code == 200
    html = r.text
    assert "<mark>ACME</mark> &lt;Supplies&gt;" in html  # the snippet as given, not re-escaped
    assert f'href="/doc/{pdf_doc.id}"' in html
    assert "badge-invoice" in html and "7.25" in html
    assert "41 documents" in html and "3 ms" in html
    assert XSS not in html  # field values in the summary are escaped
    assert "&lt;script&gt;" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert index.queries[-1] == ("acme", 20, 0)


def test_search_paging_passes_offset(client, index):
    r = client.get("/?q=acme&offset=20")
    assert r.status_code == 200
    assert index.queries[-1] == ("acme", 20, 20)
    assert 'rel="prev"' in r.text


def test_query_syntax_error_shows_message_not_500(client):
    r = client.get("/?q=bad(query")
    assert r.status_code == 200
    assert "could not be read" in r.text
    assert "missing &#39;)&#39;" in r.text or "missing ')'" in r.text
    assert "close the group &lt;b&gt;" in r.text  # the error text is escaped


def test_empty_results_message(client):
    r = client.get("/?q=nothing")
    assert r.status_code == 200 and "No documents match" in r.text


def test_empty_query_shows_search_box_only(client, index):
    r = client.get("/")
    assert r.status_code == 200 and 'name="q"' in r.text and 'href="/help"' in r.text
    assert index.queries == []


def test_help_page_lists_syntax(client):
    r = client.get("/help")
    assert r.status_code == 200 and "vendor:acme" in r.text and "type:invoice" in r.text


def test_api_search(client):
    r = client.get("/api/search?q=acme&limit=5")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 41 and body["hits"][0]["snippet"].startswith("Invoice from <mark>")
    assert client.get("/api/search?q=bad(").status_code == 400
    assert client.get("/api/search?q=bad(").json()["error"].startswith("missing")
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/search?q=a&limit=100000").status_code == 422


# ----------------------------------------------------------------------------- documents


def test_document_view_escapes_everything(client, pdf_doc):
    r = client.get(f"/doc/{pdf_doc.id}")
    assert r.status_code == 200
    html = r.text
    assert XSS not in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>box</b>" not in html
    assert "vendor_name" in html and "total_amount" in html
    assert "Larkspur; &lt;script&gt;" in html  # list values joined
    assert "read as “ACMF &lt;script&gt;" in html  # what OCR read, beside the agreed spelling
    assert "total does not add up" in html  # problems
    assert f'href="/doc/{pdf_doc.id}/original"' in html
    assert f'href="/doc/{pdf_doc.id}/pdf"' in html  # the original is a PDF
    assert f'src="/doc/{pdf_doc.id}/page/1.png"' in html
    assert "93%" in html  # document type confidence


def test_document_view_draws_field_boxes_in_percent(client, pdf_doc):
    html = client.get(f"/doc/{pdf_doc.id}").text
    # vendor_name bbox (72, 72, 160, 84) on a 612 x 792 pt page
    assert 'x="11.765" y="9.091" width="14.379" height="1.515"' in html
    assert 'class="box low"' in html  # total_amount at 41% is below the review threshold


def test_overlay_box_units():
    pt = Page(number=1, width=612, height=792, unit="pt", source="text")
    px = Page(number=1, width=2550, height=3300, unit="px", dpi=300, source="ocr")
    assert overlay_box((0, 0, 612, 792), pt).width == 100
    box = overlay_box((255, 330, 510, 660), px)
    assert (box.left, box.top, box.width, box.height) == (10, 10, 10, 10)
    assert overlay_box((-50, -50, 10000, 10000), pt).width == 100  # clamped to the page
    assert overlay_box(None, pt) is None
    assert overlay_box((5, 5, 5, 9), pt) is None  # no area


def test_view_is_audited(client, archive, pdf_doc):
    client.get(f"/doc/{pdf_doc.id}")
    views = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "view"]
    assert len(views) == 1 and views[0].actor == "user:clerk"


def test_unknown_id_is_a_friendly_404(client):
    r = client.get("/doc/0123456789abcdef")
    assert r.status_code == 404
    assert "no document with id 0123456789abcdef" in r.text.lower()
    assert "Traceback" not in r.text
    assert client.get("/api/documents/0123456789abcdef").status_code == 404
    assert client.get("/api/documents/0123456789abcdef").json()["error"]


@pytest.mark.parametrize("bad", ["0123", "0123456789ABCDEF", "..%2F..%2Fetc", "0123456789abcdefff", "%3Cscript%3E"])
def test_malformed_id_is_rejected(client, bad):
    for path in (f"/doc/{bad}", f"/doc/{bad}/original", f"/api/documents/{bad}"):
        r = client.get(path)
        assert r.status_code in (404, 422), path
        assert "<script>" not in r.text


def test_unknown_route_is_a_friendly_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "There is no page" in r.text


def test_security_headers_on_every_response(anon, client, pdf_doc):
    responses = [anon.get("/"), anon.get("/healthz"), anon.get("/static/ecm.css"), anon.get("/signin"),
                 client.get(f"/doc/{pdf_doc.id}"), client.get("/doc/0123456789abcdef"),
                 client.get(f"/doc/{pdf_doc.id}/page/1.png"), client.get("/api/search?q=acme")]
    for r in responses:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, name)
    assert "frame-ancestors 'none'" in responses[0].headers["content-security-policy"]
    assert responses[4].headers["cache-control"] == "no-store"


def test_original_download(client, archive, pdf_doc):
    r = client.get(f"/doc/{pdf_doc.id}/original")
    assert r.status_code == 200
    assert r.content == archive.get_original(pdf_doc.sha256)
    assert r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2  # the quote in the name did not end the value early
    assert "filename*=UTF-8''weird%20%22name%22%3B.pdf" in disposition
    downloads = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "download"]
    assert downloads and downloads[0].detail == {"what": "original"}


def test_content_disposition_non_ascii():
    header = content_disposition("Rechnung Müller.pdf")
    assert header == "attachment; filename=\"Rechnung M_ller.pdf\"; filename*=UTF-8''Rechnung%20M%C3%BCller.pdf"


def test_pdf_download_falls_back_to_the_original_pdf(client, archive, pdf_doc, image_doc):
    r = client.get(f"/doc/{pdf_doc.id}/pdf")
    assert r.status_code == 200 and r.content == archive.get_original(pdf_doc.sha256)
    assert client.get(f"/doc/{image_doc.id}/pdf").status_code == 404  # an image without OCR output
    assert "Searchable PDF" not in client.get(f"/doc/{image_doc.id}").text


def test_searchable_pdf_is_preferred(client, archive, image_doc):
    searchable = _pdf_bytes(["TOTAL 9.99"])
    archive.save(image_doc.model_copy(update={"searchable_pdf": searchable}), actor="test", action="edit")
    r = client.get(f"/doc/{image_doc.id}/pdf")
    assert r.status_code == 200 and r.content == searchable
    assert 'filename="receipt.searchable.pdf"' in r.headers["content-disposition"]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as im:
        im.verify()
        return im.size


def test_page_png_from_pdf(client, pdf_doc):
    r = client.get(f"/doc/{pdf_doc.id}/page/1.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    width, height = _png_size(r.content)
    assert (width, height) == (850, 1100)  # letter at 100 dpi
    assert client.get(f"/doc/{pdf_doc.id}/page/2.png").status_code == 404
    assert client.get(f"/doc/{pdf_doc.id}/page/0.png").status_code == 404


def test_page_png_from_image(client, image_doc):
    r = client.get(f"/doc/{image_doc.id}/page/1.png")
    assert r.status_code == 200
    assert _png_size(r.content) == (200, 300)  # 300 dpi scan shown at 100 dpi


def test_api_document_without_and_with_words(client, pdf_doc):
    body = client.get(f"/api/documents/{pdf_doc.id}").json()
    assert body["id"] == pdf_doc.id and body["fields"]["vendor_name"]["value"].startswith("ACME")
    assert body["pages"][0]["width"] == 612 and "words" not in body["pages"][0]
    assert body["versions"] == [1]
    body = client.get(f"/api/documents/{pdf_doc.id}?words=1").json()
    assert body["pages"][0]["words"][0]["text"] == "ACME"


def test_api_reference_page_has_no_cdn(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/api/search" in r.text and "cdn" not in r.text.lower()
    assert client.get("/openapi.json").json()["info"]["title"] == "ecm"


def test_store_errors_become_one_line_500(client, archive, pdf_doc):
    # Corrupt the stored original: the download must refuse with one line, not a traceback.
    path = archive.blobs.root / archive.original_key(pdf_doc.sha256)
    path.write_bytes(b"tampered")
    r = client.get(f"/doc/{pdf_doc.id}/original")
    assert r.status_code == 500
    assert "checksum" in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unexpected_errors_are_a_plain_500_with_headers(archive, tmp_path):
    class BrokenIndex:
        def search(self, query, limit=10, offset=0):
            raise RuntimeError("boom with a secret path /etc/x")

    users = UserStore(tmp_path / "ecm.sqlite", hasher=FAST_HASHER)
    users.add("clerk", Role.clerk, password_of("clerk"))
    c = client_as(create_app(Config(home=tmp_path), archive, BrokenIndex(), users), "clerk")
    r = c.get("/?q=x")
    assert r.status_code == 500 and "boom" not in r.text
    assert r.headers["content-security-policy"] == SECURITY_HEADERS["content-security-policy"]


def test_server_creates_the_first_admin_once_and_prints_it(monkeypatch, capsys, tmp_path):
    import web.server as server

    calls = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.update(kw))
    monkeypatch.setattr("ecm.backends.open_archive", lambda config: Archive(FsBlobStore(tmp_path / "store")))
    monkeypatch.setattr("ecm.backends.open_index", lambda config: FakeIndex([]))
    server.serve(Config(home=tmp_path), "0.0.0.0", 8123)
    out = capsys.readouterr().out
    assert out.startswith("ecm web UI: open http://127.0.0.1:8123/\n")
    password = re.search(r"user 'admin' with password (\S+)", out).group(1)
    users = UserStore(tmp_path / "ecm.sqlite")
    assert users.authenticate("admin", password).role == Role.admin
    assert calls["host"] == "0.0.0.0" and calls["port"] == 8123
    server.serve(Config(home=tmp_path), "127.0.0.1", 8124)  # users exist now: no new password
    assert capsys.readouterr().out == "ecm web UI: open http://127.0.0.1:8124/\n"
    assert [u.name for u in users.list()] == ["admin"]


# ----------------------------------------------------------------------------- samples


def _load_make_samples():
    path = ROOT / "samples" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


def test_make_samples_makes_valid_documents(tmp_path):
    import pypdfium2 as pdfium

    make_samples = _load_make_samples()
    made = make_samples.make_samples(tmp_path)
    names = sorted(p.name for p in made)
    assert names == sorted(p.name for p in (ROOT / "samples" / "documents").iterdir()), "regenerate samples/documents"
    expected_pages = make_samples.EXPECTED_PAGES
    assert set(expected_pages) == set(names)
    for path in made:
        data = path.read_bytes()
        if path.suffix == ".pdf":
            assert data.startswith(b"%PDF-")
            pdf = pdfium.PdfDocument(data)
            pages = len(pdf)
            pdf.close()
        else:
            with Image.open(path) as im:
                im.load()
                pages = getattr(im, "n_frames", 1)
                assert min(im.size) >= 400
        assert pages == expected_pages[path.name], path.name
    assert sum(p.stat().st_size for p in made) < 2_200_000


def test_samples_are_deterministic(tmp_path):
    make_samples = _load_make_samples()
    first = {p.name: p.read_bytes() for p in make_samples.make_samples(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in make_samples.make_samples(tmp_path / "b")}
    assert first == second

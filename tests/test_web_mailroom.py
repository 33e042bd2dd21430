"""The mailroom: uploads (limits, safe names, CSRF), the background worker, batch progress,
retry and delete of quarantined files."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient

from ecm.config import Config, WebConfig
from store import Archive, FsBlobStore
from tests.test_web import (  # noqa: F401 - fixtures
    XSS, FakeIndex, anon, app, archive, client_as, fake_ingest, index, pdf_doc, session_csrf, users,
)
from web.app import create_app
from web.uploads import safe_name

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"


def _upload(c: TestClient, files: list[tuple[str, bytes]], csrf: str | None = None, json_answer: bool = True):
    headers = {"accept": "application/json"} if json_answer else {}
    if csrf:
        headers["x-csrf-token"] = csrf
    return c.post("/mailroom/upload", files=[("files", (name, data)) for name, data in files], headers=headers)


def _finished(app, c: TestClient, batch_id: str) -> dict:
    assert app.state.ecm.worker.wait_idle(30)
    data = c.get(f"/api/batches/{batch_id}").json()
    assert data["finished"], data
    return data


@pytest.fixture()
def mail(app) -> TestClient:
    return client_as(app, "mailroom")


def test_upload_many_files_is_one_batch_processed_in_the_background(app, mail, archive, fake_ingest, tmp_path):
    csrf = session_csrf(mail)
    r = _upload(mail, [("a.pdf", b"%PDF-1 one"), ("b.pdf", b"%PDF-1 two"), ("../../etc/evil.pdf", b"bad bytes")], csrf)
    assert r.status_code == 201, r.text
    batch_id = r.json()["batch"]
    data = _finished(app, mail, batch_id)
    assert [i["status"] for i in data["items"]] == ["stored", "stored", "quarantined"]
    assert data["counts"]["stored"] == 2 and data["done"] == data["total"] == 3
    assert data["items"][0]["doc_type"] == "invoice" and data["items"][0]["fields"]["vendor_name"].startswith("Vendor")
    assert data["items"][2]["reason"] == "not a document (test)" and data["items"][2]["name"] == "../../etc/evil.pdf"
    assert "path" not in data["items"][0]  # the inbox path stays on the server
    # All three in one pipeline run (so OCR of several documents overlaps), named safely in the inbox.
    assert len(fake_ingest.calls) == 1
    inbox = tmp_path / "inbox" / batch_id
    assert [p.name for p in fake_ingest.calls[0]] == ["a.pdf", "b.pdf", "evil.pdf"]
    assert all(inbox in p.parents for p in fake_ingest.calls[0])
    # Stored files left the inbox (the store has them); the quarantined one waits for a decision.
    assert sorted(p.name for p in inbox.rglob("*") if p.is_file()) == ["evil.pdf"]
    # Audited with the user who uploaded.
    ingests = [e for e in archive.events() if e.action == "ingest" and e.actor != "test"]  # "test": fixtures
    assert [e.actor for e in ingests] == ["user:mailroom"] * 2
    assert any(e.action == "upload" and e.actor == "user:mailroom" and e.detail["files"] == 3 for e in archive.events())


def test_batch_page_escapes_names_and_values(app, mail):
    r = _upload(mail, [(f"{XSS}.pdf", b"%PDF-1 xss")], session_csrf(mail))
    batch_id = r.json()["batch"]
    _finished(app, mail, batch_id)
    html = mail.get(f"/mailroom/batches/{batch_id}").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'src="/static/batch.js"' in html
    assert f"/doc/" not in html  # the mailroom role does not read documents: no links
    admin = client_as(app, "admin")
    assert "/doc/" in admin.get(f"/mailroom/batches/{batch_id}").text
    assert batch_id in mail.get("/mailroom").text


def test_form_upload_without_javascript_redirects_to_the_batch(app, mail):
    csrf = session_csrf(mail)
    r = mail.post("/mailroom/upload", data={"csrf": csrf}, files=[("files", ("x.pdf", b"%PDF-1 form"))])
    assert r.status_code == 303 and r.headers["location"].startswith("/mailroom/batches/b-")
    page = mail.get(r.headers["location"])
    assert page.status_code == 200 and "x.pdf" in page.text


def test_upload_needs_csrf_and_writes_nothing_without_it(app, mail, tmp_path):
    r = mail.post("/mailroom/upload", files=[("files", ("x.pdf", b"%PDF-1"))], headers={"accept": "application/json"})
    assert r.status_code == 403 and "expired" in r.json()["error"]
    r = mail.post("/mailroom/upload", data={"csrf": "forged"}, files=[("files", ("x.pdf", b"%PDF-1"))])
    assert r.status_code == 403
    assert not any(p.is_file() for p in (tmp_path / "inbox").rglob("*"))
    assert app.state.ecm.batches.recent() == []


def test_upload_without_files_is_a_clear_400(mail):
    r = _upload(mail, [("", b"")], session_csrf(mail))
    assert r.status_code == 400 and "No files" in r.json()["error"]


def test_upload_over_the_limit_is_413_while_streaming(archive, users, tmp_path, fake_ingest):
    config = Config(home=tmp_path, web=WebConfig(max_upload_mb=1))
    app = create_app(config, archive, FakeIndex([]), users, ingest=fake_ingest, executor_factory=lambda c: None)
    mail = client_as(app, "mailroom")
    csrf = session_csrf(mail)
    big = b"%PDF-1" + b"0" * (2 * 2**20)
    r = _upload(mail, [("big.pdf", big)], csrf)
    assert r.status_code == 413 and "limit of 1 MB" in r.json()["error"]
    # Without a Content-Length (chunked), the count while streaming stops it too.
    r = _upload(mail, [("a.pdf", b"%PDF-1 small")], csrf)
    assert r.status_code == 201
    _finished(app, mail, r.json()["batch"])  # the background worker has stored it
    r = mail.post("/mailroom/upload", content=_chunked_body(csrf, 2 * 2**20),
                  headers={"content-type": "multipart/form-data; boundary=XyZ", "x-csrf-token": csrf})
    assert r.status_code == 413 and "limit of 1 MB" in r.text
    assert [p.name for p in (tmp_path / "inbox").rglob("*") if p.is_file()] == []  # nothing kept (a.pdf was stored)
    assert fake_ingest.calls and all(p.name == "a.pdf" for call in fake_ingest.calls for p in call)
    app.state.ecm.worker.stop()


def _chunked_body(csrf: str, size: int):
    yield b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="huge.pdf"\r\n\r\n'
    for _ in range(size // 65536):
        yield b"0" * 65536
    yield b"\r\n--XyZ--\r\n"


def test_retry_and_delete_a_quarantined_file(app, mail, archive, fake_ingest, tmp_path):
    csrf = session_csrf(mail)
    batch_id = _upload(mail, [("bad.pdf", b"bad bytes")], csrf).json()["batch"]
    item = _finished(app, mail, batch_id)["items"][0]
    assert item["status"] == "quarantined"
    path = Path(app.state.ecm.batches.item(batch_id, 1).path)
    # Retry: the fixed file (here: the same name, now good bytes) goes through again.
    path.write_bytes(b"%PDF-1 repaired")
    r = mail.post(f"/mailroom/batches/{batch_id}/items/1/retry", data={"csrf": csrf})
    assert r.status_code == 303
    item = _finished(app, mail, batch_id)["items"][0]
    assert item["status"] == "stored" and not path.exists()
    assert mail.post(f"/mailroom/batches/{batch_id}/items/1/delete", data={"csrf": csrf}).status_code == 404
    # Delete: the file leaves the inbox, the audit keeps the record.
    batch_id = _upload(mail, [("bad2.pdf", b"bad again")], csrf).json()["batch"]
    _finished(app, mail, batch_id)
    path = Path(app.state.ecm.batches.item(batch_id, 1).path)
    assert path.exists()
    r = mail.post(f"/mailroom/batches/{batch_id}/items/1/delete", data={"csrf": csrf})
    assert r.status_code == 303 and not path.exists()
    assert mail.get(f"/api/batches/{batch_id}").json()["items"][0]["status"] == "deleted"
    deleted = [e for e in archive.events() if e.action == "inbox-delete"]
    assert deleted and deleted[0].actor == "user:mailroom" and deleted[0].detail["name"] == "bad2.pdf"
    assert any(q["source"].endswith("bad2.pdf") for q in archive.quarantined())


def test_unknown_batches_are_404(mail):
    assert mail.get("/mailroom/batches/b-20260101-000000-00000000").status_code == 404
    assert mail.get("/api/batches/..%2F..%2Fetc").status_code == 404
    assert mail.get("/api/batches/nope").json()["error"]


def test_unfinished_batches_are_taken_up_after_a_restart(archive, users, tmp_path, fake_ingest):
    config = Config(home=tmp_path)
    app = create_app(config, archive, FakeIndex([]), users, ingest=fake_ingest, executor_factory=lambda c: None)
    folder = tmp_path / "inbox" / "b-20260101-000000-0000aaaa" / "0001"
    folder.mkdir(parents=True)
    (folder / "left.pdf").write_bytes(b"%PDF-1 left over")
    app.state.ecm.batches.create("b-20260101-000000-0000aaaa", "mailroom", [("left.pdf", str(folder / "left.pdf"), 16)])
    with TestClient(app):  # the lifespan starts the worker, which finds the batch
        assert app.state.ecm.worker.wait_idle(30)
    assert app.state.ecm.batches.get("b-20260101-000000-0000aaaa").items[0].status == "stored"


@pytest.mark.parametrize("given, safe", [
    ("invoice.pdf", "invoice.pdf"), ("../../etc/passwd", "passwd"), ("C:\\scans\\a b.pdf", "a b.pdf"),
    (".hidden", "hidden"), ("", "upload"), ("a\x00b\nc.pdf", "abc.pdf"), ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ("Rechnung Müller.pdf", "Rechnung Müller.pdf"), ("a;b|c<d>.pdf", "a_b_c_d_.pdf"),
])
def test_safe_name(given, safe):
    assert safe_name(given) == safe


def test_real_pipeline_ingests_a_sample(tmp_path, users):
    """The worker with the real ``ingest_paths``, Executor and embedded index (a born-digital PDF: no OCR)."""
    from search import EmbeddedIndex

    config = Config(home=tmp_path)
    archive = Archive(FsBlobStore(tmp_path / "store"))
    index = EmbeddedIndex(tmp_path / "index")
    app = create_app(config, archive, index, users)
    try:
        mail = client_as(app, "mailroom")
        sample = SAMPLES / "invoice_quillfeather_QS-2024-0173.pdf"
        r = _upload(mail, [(sample.name, sample.read_bytes())], session_csrf(mail))
        data = _finished(app, mail, r.json()["batch"])
        item = data["items"][0]
        assert item["status"] == "stored" and item["doc_type"] == "invoice", item
        assert item["fields"].get("invoice_number") == "QS-2024-0173"
        assert index.search("QS-2024-0173").total == 1
        again = _upload(mail, [(sample.name, sample.read_bytes())], session_csrf(mail))
        assert _finished(app, mail, again.json()["batch"])["items"][0]["status"] == "duplicate"
        assert json.dumps(data)  # plain JSON
    finally:
        app.state.ecm.worker.stop()


def test_mailroom_splits_a_batch_scan_when_asked(tmp_path, users):
    """Upload with ?split=1: each document of a batch PDF becomes an item of the batch."""
    from search import EmbeddedIndex

    batch = tmp_path / "batch.pdf"
    with pikepdf.new() as out:
        parts = [pikepdf.open(SAMPLES / name) for name in
                 ("invoice_quillfeather_QS-2024-0173.pdf", "letter_ashgrove_lease_renewal.pdf")]
        out.pages.append(parts[0].pages[0])
        out.add_blank_page(page_size=(612, 792))  # a blank separator sheet
        out.pages.append(parts[1].pages[0])
        out.save(batch)
        for part in parts:
            part.close()
    config = Config(home=tmp_path)
    archive = Archive(FsBlobStore(tmp_path / "store"))
    app = create_app(config, archive, EmbeddedIndex(tmp_path / "index"), users)
    try:
        mail = client_as(app, "mailroom")
        r = mail.post("/mailroom/upload?split=1", files=[("files", ("batch.pdf", batch.read_bytes(), "application/pdf"))],
                      headers={"x-csrf-token": session_csrf(mail), "accept": "application/json"})
        assert r.status_code == 201, r.text
        items = _finished(app, mail, r.json()["batch"])["items"]
        assert [(i["status"], i["doc_type"]) for i in items] == [("stored", "invoice"), ("stored", "letter")]
        assert not any(p.is_file() for p in (tmp_path / "inbox").rglob("*"))  # the upload is in the store now
    finally:
        app.state.ecm.worker.stop()

"""Review: the queue (a search for review:needs-review), corrections as new versions
(re-indexed, audited, kept as training data), acceptance kept in the record."""

from __future__ import annotations

import json
import re

import pytest

from ecm.document import Document
from tests.test_web import (  # noqa: F401 - fixtures
    XSS, anon, app, archive, client_as, fake_ingest, index, pdf_doc, real_app, real_index, session_csrf, users,
)
from web import review as review_module
from web.review import needs_review


@pytest.fixture()
def rev(app):
    return client_as(app, "reviewer")


@pytest.fixture()
def real_rev(real_app):
    return client_as(real_app, "reviewer")


def test_queue_lists_low_confidence_documents(rev, pdf_doc, index):  # noqa: F811
    html = rev.get("/review").text
    assert f'href="/review/{pdf_doc.id}"' in html  # total_amount at 41% < 60%
    assert "total_amount" in html and "<script>alert" not in html
    assert needs_review(pdf_doc, 0.6)
    assert index.queries[-1] == ("review:needs-review", review_module.QUEUE_PAGE, 0)  # a search, not a scan


def test_queue_is_what_the_index_holds_as_needing_review(real_rev, real_index, archive):  # noqa: F811
    # Stored but never indexed: the queue does not read the store to find it.
    hidden = archive.save(Document(source="hidden.pdf", sha256="9" * 64), actor="test", action="ingest")
    assert f'href="/review/{hidden.id}"' not in real_rev.get("/review").text
    real_index.add([hidden])
    html = real_rev.get("/review").text
    assert f'href="/review/{hidden.id}"' in html and "document type not decided" in html
    assert re.search(r"1–2 of 2 documents to review", html)


def test_queue_pages(real_rev, real_index, archive, monkeypatch):  # noqa: F811
    docs = [archive.save(Document(source=f"d{i}.pdf", sha256=f"{i + 1}" * 64), actor="test", action="ingest")
            for i in range(3)]
    real_index.add(docs)
    monkeypatch.setattr(review_module, "QUEUE_PAGE", 2)
    first = real_rev.get("/review").text
    assert "1–2 of 4 documents" in first and 'href="/review?offset=2"' in first
    second = real_rev.get("/review", params={"offset": 2}).text
    assert "3–4 of 4 documents" in second and 'href="/review?offset=0"' in second
    seen = set(re.findall(r'href="/review/([0-9a-f]{16})"', first + second))
    assert len(seen) == 4
    assert real_rev.get("/review", params={"offset": -1}).status_code == 400


def test_review_page_shows_words_to_click_escaped(rev, pdf_doc, archive):
    r = rev.get(f"/review/{pdf_doc.id}")
    assert r.status_code == 200
    html = r.text
    assert 'class="word" x="72.0" y="72.0"' in html and 'data-text="ACME"' in html
    assert "<script>alert" not in html and 'data-text="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'name="value.total_amount" value="120.00"' in html and 'name="version" value="1"' in html
    assert 'src="/static/review.js"' in html
    assert any(e.action == "view" and e.actor == "user:reviewer" and e.detail == {"via": "review"}
               for e in archive.events(doc_id=pdf_doc.id))


def _form(rev, doc, **values) -> dict:
    data = {"csrf": session_csrf(rev), "version": str(doc.version), "doc_type": "invoice", "action": "save"}
    data.update(values)
    return data


def test_correction_is_a_new_version_reindexed_audited_and_training_data(rev, pdf_doc, archive, index, tmp_path):
    r = rev.post(f"/review/{pdf_doc.id}", data=_form(rev, pdf_doc, **{
        "value.vendor_name": "ACME Supplies", "page.vendor_name": "1", "bbox.vendor_name": "72,72,160,84",
        "value.total_amount": "120.00",  # unchanged
        "value.invoice_number": "INV-1",  # not extracted before: added, typed (no box)
    }))
    assert r.status_code == 303 and r.headers["location"] == f"/review/{pdf_doc.id}?saved=1"
    doc = archive.get(pdf_doc.id)
    assert doc.version == 2 and archive.versions(pdf_doc.id) == [1, 2]
    vendor = doc.fields["vendor_name"]
    assert (vendor.value, vendor.confidence, vendor.source, vendor.page, vendor.bbox) == (
        "ACME Supplies", 1.0, "user:reviewer", 1, (72.0, 72.0, 160.0, 84.0))
    assert doc.fields["invoice_number"].value == "INV-1" and doc.fields["invoice_number"].bbox is None
    assert doc.fields["total_amount"].source == "extract"  # left alone by a plain save
    assert index.added and index.added[-1].fields["vendor_name"].value == "ACME Supplies"
    edits = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "edit"]
    assert edits and edits[0].actor == "user:reviewer" and edits[0].detail == {"version": 2}
    lines = [json.loads(line) for line in (tmp_path / "training" / "corrections.jsonl").read_text().splitlines()]
    assert [(x["field"], x["old"], x["new"], x["page"], x["bbox"]) for x in lines] == [
        ("vendor_name", f"ACME {XSS}", "ACME Supplies", 1, [72.0, 72.0, 160.0, 84.0]),
        ("invoice_number", None, "INV-1", None, None),
    ]
    assert lines[0]["doc_id"] == pdf_doc.id and lines[0]["user"] == "user:reviewer" and lines[0]["version"] == 2


def test_accept_confirms_and_leaves_the_queue(real_rev, pdf_doc, archive, real_index):  # noqa: F811
    assert [h.id for h in real_index.search("review:needs-review").hits] == [pdf_doc.id]
    r = real_rev.post(f"/review/{pdf_doc.id}", data=_form(real_rev, pdf_doc, **{
        "value.vendor_name": f"ACME {XSS}", "value.total_amount": "121.50", "action": "accept"}))
    assert r.status_code == 303 and r.headers["location"] == f"/review?done={pdf_doc.id}"
    doc = archive.get(pdf_doc.id)
    assert doc.fields["total_amount"].value == "121.50"
    assert all(f.confidence == 1.0 and f.source == "user:reviewer" for n, f in doc.fields.items()
               if n in ("vendor_name", "total_amount"))
    assert doc.doc_type.source == "user:reviewer"
    # The acceptance is in the record (who, which version, when), so the index can derive the state.
    assert doc.accepted is not None and (doc.accepted.by, doc.accepted.version) == ("user:reviewer", 1)
    assert needs_review(doc, 0.85)  # the rule still has something to say (the totals)...
    assert real_index.search("review:needs-review").total == 0  # ...but a person accepted it
    assert [h.id for h in real_index.search("review:accepted").hits] == [pdf_doc.id]
    assert f'href="/review/{pdf_doc.id}"' not in real_rev.get("/review").text
    assert any(e.action == "accept" for e in archive.events(doc_id=pdf_doc.id))
    page = real_rev.get(f"/doc/{pdf_doc.id}").text
    assert re.search(r'id="review-state"><span class="status status-accepted">accepted</span>\s*'
                     r'<span class="muted">by user:reviewer on \d{4}-\d\d-\d\d \(version 1\)', page)


def test_a_later_correction_without_accepting_goes_back_to_the_rule(real_rev, pdf_doc, archive, real_index):  # noqa: F811
    real_rev.post(f"/review/{pdf_doc.id}", data=_form(real_rev, pdf_doc, action="accept"))
    accepted = archive.get(pdf_doc.id)
    assert accepted.accepted is not None
    real_rev.post(f"/review/{pdf_doc.id}", data=_form(real_rev, accepted, **{"value.total_amount": "99.00"}))
    doc = archive.get(pdf_doc.id)
    assert doc.accepted is None and doc.version == 3
    assert [h.id for h in real_index.search("review:needs-review").hits] == [pdf_doc.id]  # the totals


def test_bad_values_are_refused_with_a_message(rev, pdf_doc, archive):
    r = rev.post(f"/review/{pdf_doc.id}", data=_form(rev, pdf_doc, **{
        "value.total_amount": "$12", "value.invoice_date": "31/12/2024", "value.currency": "dollars"}))
    assert r.status_code == 400
    assert "amounts as plain decimals" in r.text and "YYYY-MM-DD" in r.text and "three-letter" in r.text
    assert 'value="$12"' in r.text  # what was typed is kept
    assert archive.versions(pdf_doc.id) == [1]


def test_a_stale_form_is_refused(rev, pdf_doc, archive):
    archive.save(pdf_doc, actor="user:other", action="edit")
    r = rev.post(f"/review/{pdf_doc.id}", data=_form(rev, pdf_doc, **{"value.total_amount": "1.00"}))
    assert r.status_code == 409 and "while you were reviewing" in r.text
    assert archive.versions(pdf_doc.id) == [1, 2]


def test_clicked_box_must_lie_on_the_page(rev, pdf_doc, archive):
    rev.post(f"/review/{pdf_doc.id}", data=_form(rev, pdf_doc, **{
        "value.total_amount": "99.00", "page.total_amount": "1", "bbox.total_amount": "0,0,99999,5"}))
    field = archive.get(pdf_doc.id).fields["total_amount"]
    assert field.value == "99.00" and field.page == 1 and field.bbox is None

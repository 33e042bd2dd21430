"""Facets and sorting in the embedded index, on the search page and in /api/search; hit words
marked on the page images of the document view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecm.config import Config
from ecm.document import DocType, Document, FieldValue, Page, Word
from search import EmbeddedIndex
from tests.test_web import XSS, _pdf_bytes, _store, archive, client_as, users  # noqa: F401 - fixtures
from web.app import create_app
from web.finding import facet_groups, hit_boxes, near, query_words

CORPUS = [
    # (n, type, vendor, date, amount, words)
    (1, "invoice", "Acme Corp", "2024-03-01", "120.00", "late payment fee"),
    (2, "invoice", "Acme Corp", "2023-05-02", "80.00", "payment due"),
    (3, "invoice", "Bolt Ltd", "2024-07-09", "300.00", "payment terms"),
    (4, "receipt", "Bolt Ltd", "2022-01-15", "9.50", "cash payment"),
    (5, "contract", None, "2021-06-30", None, "payment obligations of the parties"),
    (6, "receipt", "Café Olé", None, "15.00", "payment by card"),
]


def _doc(n, doc_type, vendor, day, amount, text) -> Document:
    fields = {}
    if vendor:
        fields["vendor_name"] = FieldValue(value=vendor, confidence=0.9)
    if day:
        fields["invoice_date" if doc_type != "contract" else "effective_date"] = FieldValue(value=day, confidence=0.9)
    if amount:
        fields["total_amount"] = FieldValue(value=amount, confidence=0.9)
    words = [Word(text=w, bbox=(72 + 40 * i, 72, 108 + 40 * i, 84)) for i, w in enumerate(text.split())]
    return Document(id=f"{n:016x}", source=f"/in/doc{n}.pdf", sha256=f"{n:064x}",
                    pages=[Page(number=1, width=612, height=792, unit="pt", source="text", words=words)],
                    doc_type=DocType(label=doc_type, confidence=0.9), fields=fields)


@pytest.fixture()
def real_index(tmp_path: Path) -> EmbeddedIndex:
    index = EmbeddedIndex(tmp_path / "index")
    index.add([_doc(*row) for row in CORPUS])
    return index


def test_facet_counts(real_index):
    facets = real_index.facets("payment")
    assert facets["doc_type"] == [("invoice", 3), ("receipt", 2), ("contract", 1)]
    assert facets["vendor"] == [("Acme Corp", 2), ("Bolt Ltd", 2), ("Café Olé", 1)]
    assert facets["year"] == [("2024", 2), ("2023", 1), ("2022", 1), ("2021", 1)]
    assert facets["tags"] == []
    assert facets["review"] == [("auto", 4), ("needs-review", 2)]  # no "parties" (5), no invoice_date (6)
    narrowed = real_index.facets("payment type:invoice")
    assert narrowed["doc_type"] == [("invoice", 3)] and narrowed["vendor"] == [("Acme Corp", 2), ("Bolt Ltd", 1)]
    assert real_index.facets("")["doc_type"][0] == ("invoice", 3)  # browsing: every document
    assert real_index.facets("nothingmatchesthis") == {"doc_type": [], "vendor": [], "year": [], "tags": [],
                                                       "review": []}
    assert real_index.facets('vendor:"acme corp"')["doc_type"] == [("invoice", 2)]


def _ids(result) -> list[int]:
    return [int(h.id, 16) for h in result.hits]


def test_sorting(real_index):
    assert _ids(real_index.search("payment", limit=10, sort="date_desc")) == [3, 1, 2, 4, 5, 6]  # no date: last
    assert _ids(real_index.search("payment", limit=10, sort="date_asc")) == [5, 4, 2, 1, 3, 6]
    assert _ids(real_index.search("payment", limit=10, sort="amount_desc")) == [3, 1, 2, 6, 4, 5]
    assert _ids(real_index.search("payment", limit=10, sort="amount_asc")) == [4, 6, 2, 1, 3, 5]
    # Paging across the documents without a value.
    page2 = real_index.search("payment", limit=2, offset=4, sort="amount_asc")
    assert page2.total == 6 and _ids(page2) == [3, 5]
    assert _ids(real_index.search("payment", limit=3, offset=3, sort="date_desc")) == [4, 5, 6]
    with pytest.raises(Exception, match="unknown sort"):
        real_index.search("payment", sort="sideways")


def test_facet_links_add_and_remove_terms():
    groups = facet_groups({"doc_type": [("invoice", 3)], "vendor": [("Acme Corp", 2), ('Bad "quote"', 1)],
                           "year": [("2024", 2)], "tags": []}, "payment type:invoice", "date_desc")
    by_name = {g.name: g for g in groups}
    assert [g.name for g in groups] == ["doc_type", "vendor", "year"]
    invoice = by_name["doc_type"].items[0]
    assert invoice.active and invoice.href == "/?q=payment&sort=date_desc"  # clicking removes it
    acme = by_name["vendor"].items[0]
    assert not acme.active and acme.href == "/?q=payment+type%3Ainvoice+vendor%3A%22Acme+Corp%22&sort=date_desc"
    assert "vendor%3A%22Bad+quote%22" in by_name["vendor"].items[1].href
    assert by_name["year"].items[0].href.endswith("date%3A2024&sort=date_desc")


def test_tag_and_review_facet_links():
    groups = facet_groups({"tags": [("urgent", 4), ("audit-2026", 1)], "review": [("needs-review", 2), ("auto", 1)]},
                          "payment tag:urgent", "relevance")
    by_name = {g.name: g for g in groups}
    urgent, audit = by_name["tags"].items
    assert urgent.active and urgent.href == "/?q=payment"
    assert not audit.active and audit.href == "/?q=payment+tag%3Aurgent+tag%3Aaudit-2026"
    needs, auto = by_name["review"].items
    assert (needs.label, needs.count, auto.label) == ("needs review", 2, "straight through")
    assert needs.href == "/?q=payment+tag%3Aurgent+review%3Aneeds-review"


@pytest.fixture()
def search_app(archive, users, tmp_path, real_index):  # noqa: F811
    app = create_app(Config(home=tmp_path), archive, real_index, users, ingest=lambda *a, **k: iter(()),
                     executor_factory=lambda config: None)
    yield app
    app.state.ecm.worker.stop()


def test_search_page_shows_facets_sort_and_keeps_them_when_paging(search_app):
    clerk = client_as(search_app, "clerk")
    r = clerk.get("/", params={"q": "payment", "sort": "amount_desc"})
    assert r.status_code == 200
    html = r.text
    assert 'id="facet-doc_type"' in html and 'id="facet-vendor"' in html and 'id="facet-year"' in html
    assert re.search(r'Acme Corp</span><span class="count">2<', html)
    assert "Café Olé" in html
    assert '<span aria-current="true">Amount, highest</span>' in html
    order = re.findall(r'href="/doc/([0-9a-f]{16})"', html)
    assert [int(i, 16) for i in order] == [3, 1, 2, 6, 4, 5]
    assert clerk.get("/", params={"q": "payment", "sort": "bogus"}).status_code == 400
    api = clerk.get("/api/search", params={"q": "payment", "facets": "1", "sort": "date_asc", "limit": 2}).json()
    assert api["total"] == 6 and [int(h["id"], 16) for h in api["hits"]] == [5, 4]
    assert api["facets"]["doc_type"][0] == ["invoice", 3]
    assert "facets" not in clerk.get("/api/search", params={"q": "payment"}).json()


def test_query_words_and_near():
    assert query_words('acme "late fee" -draft type:invoice vendor:bolt') == {"acme", "late", "fee", "bolt"}
    assert query_words("bad(") == set()
    assert query_words("Société") == {"societe"}
    assert near("invoice", "invoice") and near("invoce", "invoice") and near("lnvoice", "invoice")
    assert not near("acm", "acme") and not near("invoices2", "invoice")  # short words exact; one edit only


def test_document_view_marks_the_hit_words(search_app, archive):  # noqa: F811
    doc = _doc(7, "invoice", "Acme Corp", "2024-01-01", "5.00", f"Late paymemt fee {XSS}")
    doc = _store(archive, _pdf_bytes(["Late payment fee"]), doc.model_copy(update={"id": None}))
    boxes = hit_boxes(doc, "payment fee")
    assert len(boxes[1]) == 2  # "paymemt" (one OCR slip) and "fee"
    clerk = client_as(search_app, "clerk")
    html = clerk.get(f"/doc/{doc.id}", params={"q": f"payment {XSS}"}).text
    assert html.count('class="hitword"') == 2 and "<script>" not in html
    assert "marked in yellow" in html
    assert 'href="#box-vendor_name"' not in html  # no box for vendor_name in this document
    plain = clerk.get(f"/doc/{doc.id}").text
    assert 'class="hitword"' not in plain and "marked in yellow" not in plain

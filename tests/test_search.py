"""Contract tests of ``search.Index``: the behaviour every backend must have.

Each test takes the ``index`` (empty) or ``corpus`` (pre-filled, read-only) fixture, which is
parametrised over ``BACKENDS``; an Elasticsearch backend joins by adding a factory there.
Backend-specific tests (the embedded index's folder handling) are at the end of the file.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

import jsonschema
import pytest

from ecm.document import Acceptance, DocType, Document, FieldValue, Page, Word
from ecm.errors import QuerySyntaxError, SearchError
from search import EmbeddedIndex, Hit, Index, SearchHits, entry_from_document
from search.elasticsearch import ElasticsearchIndex
from test_search_query import documented_queries  # tests/ is on sys.path (pytest rootdir-less import)
from tests.servers import shared_elasticsearch  # the plugin's own module: one server per session

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "shared" / "contract" / "search.schema.json"

def elasticsearch_backend(folder: Path) -> ElasticsearchIndex:
    """An index on the session's Elasticsearch-API server (noida-db), one alias per folder."""
    alias = "ecm-test-" + hashlib.sha1(str(folder).encode()).hexdigest()[:16]
    return ElasticsearchIndex(shared_elasticsearch().client(), alias)


# A backend factory gets a folder it may use and returns an empty-or-existing index there;
# called twice with the same folder it must return the same index (reopen).
BACKENDS: list[Callable[[Path], Index]] = [
    pytest.param(lambda folder: EmbeddedIndex(folder / "index"), id="embedded"),
    pytest.param(elasticsearch_backend, id="elasticsearch"),
]


# ----------------------------------------------------------------------------- documents


def make_page(number: int, text: str) -> Page:
    words = [
        Word(text=token, bbox=(0.0, 0.0, 1.0, 1.0), line=line_no)
        for line_no, line in enumerate(text.split("\n"))
        for token in line.split()
    ]
    return Page(number=number, width=612, height=792, unit="pt", source="text", words=words)


def make_doc(
    doc_id: str | None,
    *pages: str,
    doc_type: str | None = None,
    fields: dict[str, str | list[str]] | None = None,
    source: str | None = None,
    status: str = "ok",
) -> Document:
    digest = (doc_id or "none").encode().hex()[:64].ljust(64, "0")
    return Document(
        id=doc_id,
        source=source or f"/inbox/{doc_id}.pdf",
        sha256=digest,
        status=status,
        pages=[make_page(i, text) for i, text in enumerate(pages, start=1)],
        doc_type=DocType(label=doc_type, confidence=0.9) if doc_type else None,
        fields={name: FieldValue(value=value, confidence=0.9) for name, value in (fields or {}).items()},
    )


CORPUS = [
    make_doc(
        "inv-acme",
        "ACME Corporation\n12 Harbour Road\nInvoice INV-2018-001\nDate: 05/03/2018",
        "Item: widgets 10 x 13.50\nTotal 150.00\nTax 15.00\nPayment due within 30 days\n"
        "Notes: <script>alert(1)</script>",
        doc_type="invoice",
        source="/scans/2018/acme_march.pdf",
        fields={
            "vendor_name": "ACME Corporation",
            "invoice_number": "INV-2018-001",
            "invoice_date": "2018-03-05",
            "due_date": "2018-04-04",
            "total_amount": "150.00",
            "tax_amount": "15.00",
            "currency": "USD",
        },
    ),
    make_doc(
        "inv-bolt",
        "Bolt Supplies Ltd\nInvoice INV-2019-042\nhex bolts and nuts\nTotal 1250.00\nVAT 250.00",
        doc_type="invoice",
        source="C:\\scans\\bolt.pdf",
        fields={
            "vendor_name": "Bolt Supplies Ltd",
            "invoice_number": "INV-2019-042",
            "invoice_date": "2019-01-15",
            "total_amount": "1250.00",
            "tax_amount": "250.00",
        },
    ),
    make_doc(
        "rcpt-cafe",
        "SWEET FOREST CAFE\nTax lnvoice 0042\nlatte 2 x 11.75\nTOTAL 23.50\nThank you",
        doc_type="receipt",
        fields={"vendor_name": "Sweet Forest Cafe", "invoice_date": "2018-11-20", "total_amount": "23.50"},
    ),
    make_doc(
        "nda",
        "MUTUAL NON-DISCLOSURE AGREEMENT\nbetween Foo Holdings Inc. and Bar Analytics LLC\n"
        "Each party shall keep the Confidential Information secret.\n"
        "This Agreement is governed by the laws of the State of Delaware.",
        doc_type="contract",
        fields={
            "title": "Mutual Non-Disclosure Agreement",
            "parties": ["Foo Holdings Inc.", "Bar Analytics LLC"],
            "governing_law": "Delaware",
            "effective_date": "2017-06-01",
            "term": "P2Y",
        },
    ),
    make_doc(
        "license",
        "SOFTWARE LICENSE AGREEMENT",
        "between Acme Corporation and Globex Inc.\nLicensee shall pay the fees quarterly.",
        "Governing law: New York.\nThe late fee is one percent per month.",
        doc_type="contract",
        fields={
            "title": "Software License Agreement",
            "parties": ["Acme Corporation", "Globex Inc."],
            "governing_law": "New York",
            "effective_date": "2019-02-01",
        },
    ),
    make_doc(
        "letter",
        "Dear Sir,\nthe fee you charged was late and the corparatian never answered.\nRegards",
        doc_type="letter",
    ),
    make_doc("unclassified", "A page of notes about widgets and nothing else"),
    # Never indexed: quarantined, or without an id.
    make_doc("bad", "secret quarantined words", status="quarantined"),
    make_doc(None, "words of a document without id"),
]


def ids(result: SearchHits) -> list[str]:
    return [hit.id for hit in result.hits]


def id_set(result: SearchHits) -> set[str]:
    return set(ids(result))


def visible_text(snippet: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet))


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(params=BACKENDS)
def factory(request) -> Callable[[Path], Index]:
    return request.param


@pytest.fixture
def index(factory, tmp_path) -> Index:
    return factory(tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, tmp_path_factory) -> Index:
    ix = request.param(tmp_path_factory.mktemp("corpus"))
    ix.add(CORPUS)
    return ix


def search(ix: Index, query: str, limit: int = 50) -> SearchHits:
    return ix.search(query, limit=limit)


# ----------------------------------------------------------------------------- the protocol


def test_backends_implement_the_protocol(index):
    assert isinstance(index, Index)


def test_only_ok_documents_with_an_id_are_indexed(corpus):
    assert search(corpus, "quarantined").total == 0
    assert search(corpus, "without").total == 0
    assert search(corpus, "-zzzz").total == 7


def test_hit_carries_identity_and_fields(corpus):
    (hit,) = search(corpus, "id:inv-acme").hits
    assert hit.sha256 == CORPUS[0].sha256
    assert hit.source == "/scans/2018/acme_march.pdf"
    assert hit.doc_type == "invoice"
    assert hit.fields["vendor_name"] == "ACME Corporation"
    assert hit.fields["total_amount"] == "150.00"
    (contract,) = search(corpus, "id:nda").hits
    assert contract.fields["parties"] == ["Foo Holdings Inc.", "Bar Analytics LLC"]


def test_unclassified_document_has_type_other(corpus):
    assert ids(search(corpus, "type:other")) == ["unclassified"]


# ----------------------------------------------------------------------------- words


def test_bare_words_must_all_match(corpus):
    assert id_set(search(corpus, "acme")) == {"inv-acme", "license"}
    assert ids(search(corpus, "acme invoice")) == ["inv-acme"]
    assert ids(search(corpus, "acme AND invoice")) == ["inv-acme"]


def test_words_are_case_insensitive(corpus):
    assert id_set(search(corpus, "ACME")) == id_set(search(corpus, "acme")) == id_set(search(corpus, "Acme"))


def test_words_may_be_on_different_pages(corpus):
    assert ids(search(corpus, "software percent")) == ["license"]


def test_or(corpus):
    assert id_set(search(corpus, "delaware OR globex")) == {"nda", "license"}


@pytest.mark.parametrize("query", ["agreement -delaware", "agreement NOT delaware"])
def test_not(corpus, query):
    assert ids(search(corpus, query)) == ["license"]


def test_only_negated_terms_mean_everything_else(corpus):
    assert id_set(search(corpus, "-invoice -agreement -lnvoice")) == {"letter", "unclassified"}


def test_parentheses(corpus):
    assert id_set(search(corpus, "agreement (delaware OR york)")) == {"nda", "license"}
    assert id_set(search(corpus, "(bolt OR cafe) total")) == {"inv-bolt", "rcpt-cafe"}


def test_phrase_needs_adjacent_words_in_order(corpus):
    assert id_set(search(corpus, "late fee")) == {"license", "letter"}
    assert ids(search(corpus, '"late fee"')) == ["license"]
    assert ids(search(corpus, '"fee late"')) == []


def test_word_with_punctuation_is_matched_as_a_phrase(corpus):
    assert ids(search(corpus, "INV-2018-001")) == ["inv-acme"]
    assert ids(search(corpus, "INV-2018-042")) == []


def test_bare_words_match_file_names_and_field_values(corpus):
    assert ids(search(corpus, "march")) == ["inv-acme"]  # only in the source path
    assert ids(search(corpus, "2018-03-05")) == ["inv-acme"]  # only as the ISO field value
    assert ids(search(corpus, "P2Y")) == ["nda"]


def test_punctuation_only_and_empty_queries_find_nothing(corpus):
    for query in ("", "   ", "&&&", '""', "- ."):
        result = corpus.search(query)
        assert result.total == 0 and result.hits == []


# ----------------------------------------------------------------------------- fuzzy


def test_ocr_misspelling_finds_the_right_word(corpus):
    # "lnvoice" (OCR for "invoice") finds the invoices, and the receipt that has it verbatim.
    assert id_set(search(corpus, "lnvoice")) == {"inv-acme", "inv-bolt", "rcpt-cafe"}
    assert ids(search(corpus, "lnvoice"))[0] == "rcpt-cafe"


def test_exact_matches_rank_above_fuzzy_ones(corpus):
    result = search(corpus, "invoice")
    assert ids(result)[-1] == "rcpt-cafe"  # only "lnvoice" there
    assert set(ids(result)[:2]) == {"inv-acme", "inv-bolt"}
    assert result.hits[1].score > result.hits[2].score


def test_long_words_tolerate_two_edits(corpus):
    assert "inv-acme" in ids(search(corpus, "corporatoin"))  # transposition: 1 edit
    assert id_set(search(corpus, "corporation")) >= {"letter"}  # "corparatian": 2 edits, 11 letters


def test_short_words_and_numbers_are_not_fuzzy(corpus):
    assert search(corpus, "acne").total == 0
    assert search(corpus, "INV-2019-043").total == 0
    assert search(corpus, "1250.01").total == 0


def test_fuzzy_word_inside_and(corpus):
    assert ids(search(corpus, "bolt lnvoice")) == ["inv-bolt"]


# ----------------------------------------------------------------------------- fields


@pytest.mark.parametrize(
    "query, expected",
    [
        ("vendor:acme", {"inv-acme"}),  # the license mentions Acme, but not as vendor
        ("vendor_name:acme", {"inv-acme"}),
        ('vendor:"sweet forest"', {"rcpt-cafe"}),
        ('vendor:"forest sweet"', set()),
        ("vendor:bolt", {"inv-bolt"}),
        ("number:INV-2019-042", {"inv-bolt"}),
        ("invoice_number:inv-2019-042", {"inv-bolt"}),
        ("number:2019", {"inv-bolt"}),
        ("party:globex", {"license"}),
        ('parties:"bar analytics"', {"nda"}),
        ("party:acme", {"license"}),
        ("law:delaware", {"nda"}),
        ('governing_law:"new york"', {"license"}),
        ("title:license", {"license"}),
        ("title:agreement", {"nda", "license"}),
        ("currency:usd", {"inv-acme"}),
        ("term:P2Y", {"nda"}),
        ("source:bolt", {"inv-bolt"}),
        ("source:acme_march.pdf", {"inv-acme"}),
        ("source:scans", {"inv-acme", "inv-bolt"}),
        ("type:invoice", {"inv-acme", "inv-bolt"}),
        ("type:contract", {"nda", "license"}),
        ("type:letter", {"letter"}),
        ("id:rcpt-cafe", {"rcpt-cafe"}),
        (f"sha256:{CORPUS[3].sha256}", {"nda"}),
        ("tag:urgent", set()),
    ],
)
def test_field_prefixes(corpus, query, expected):
    assert id_set(search(corpus, query)) == expected


def test_whole_field_value_ranks_first(corpus):
    # Both contracts have "agreement" in the title; a title equal to the query wins.
    assert ids(search(corpus, 'title:"software license agreement"')) == ["license"]
    result = search(corpus, 'title:agreement party:"acme corporation"')
    assert ids(result) == ["license"]


def test_fields_combine_with_words_and_filters(corpus):
    assert ids(search(corpus, "type:invoice widgets")) == ["inv-acme"]
    assert ids(search(corpus, "type:contract -law:delaware")) == ["license"]
    assert id_set(search(corpus, "type:(invoice OR receipt) total")) == {"inv-acme", "inv-bolt", "rcpt-cafe"}


def test_field_words_are_fuzzy_too(corpus):
    assert ids(search(corpus, "vendor:suppiles")) == ["inv-bolt"]


# ----------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    "query, expected",
    [
        ("date:2018", {"inv-acme", "rcpt-cafe"}),
        ("date:2018-03", {"inv-acme"}),
        ("date:2018-04", {"inv-acme"}),  # due date
        ("date:2018-03-05", {"inv-acme"}),
        ("date:2018-03-06", set()),
        ("date:2018-01-01..2018-12-31", {"inv-acme", "rcpt-cafe"}),
        ("date:2018-11-20..2019-01-15", {"rcpt-cafe", "inv-bolt"}),  # both ends inclusive
        ("date:>=2019-01-01", {"inv-bolt", "license"}),
        ("date:>2019-01-15", {"license"}),
        ("date:<2018", {"nda"}),
        ("date:<=2018-03", {"nda", "inv-acme"}),
        ("date:..2017-12-31", {"nda"}),
        ("date:2019-01-16..", {"license"}),
        ("invoice_date:2018", {"inv-acme", "rcpt-cafe"}),
        ("due_date:2018-04", {"inv-acme"}),
        ("due_date:2018-03", set()),
        ("effective_date:2017..2018", {"nda"}),
    ],
)
def test_date_ranges(corpus, query, expected):
    assert id_set(search(corpus, query)) == expected


def test_created_at_is_not_a_document_date(corpus):
    assert search(corpus, "date:2020..").total == 0
    assert search(corpus, "created:2020..").total == 7


@pytest.mark.parametrize(
    "query, expected",
    [
        ("amount:100..200", {"inv-acme"}),
        ("amount:150..150", {"inv-acme"}),
        ("amount:150", {"inv-acme"}),
        ("amount:>50", {"inv-acme", "inv-bolt"}),
        ("amount:>150", {"inv-bolt"}),
        ("amount:>=150", {"inv-acme", "inv-bolt"}),
        ("amount:<150", {"rcpt-cafe"}),
        ("amount:..23.50", {"rcpt-cafe"}),
        ("amount:1000..", {"inv-bolt"}),
        ("total:23.5", {"rcpt-cafe"}),
        ("total_amount:<100", {"rcpt-cafe"}),
        ("tax:>100", {"inv-bolt"}),
        ("tax_amount:10..20", {"inv-acme"}),
    ],
)
def test_amount_ranges(corpus, query, expected):
    assert id_set(search(corpus, query)) == expected


def test_ranges_combine_with_words(corpus):
    assert ids(search(corpus, "date:2018 amount:>100 widgets")) == ["inv-acme"]
    assert ids(search(corpus, "type:contract date:2019")) == ["license"]


# ----------------------------------------------------------------------------- snippets


def test_snippet_marks_the_match_and_escapes_the_text(corpus):
    (hit,) = search(corpus, "alert").hits
    assert "<mark>alert</mark>" in hit.snippet
    assert "&lt;script&gt;" in hit.snippet
    assert "<script>" not in hit.snippet
    assert hit.page == 2
    # Nothing but <mark> is markup.
    assert re.sub(r"</?mark>", "", hit.snippet).count("<") == 0


def test_snippet_names_the_page_of_the_match(corpus):
    assert search(corpus, "percent").hits[0].page == 3
    assert search(corpus, "software").hits[0].page == 1
    hit = search(corpus, '"late fee"').hits[0]
    assert hit.page == 3 and "<mark>late</mark> <mark>fee</mark>" in hit.snippet


def test_phrase_is_marked_only_where_it_occurs(corpus):
    (hit,) = search(corpus, '"governed by the laws"').hits
    assert "<mark>governed</mark> <mark>by</mark> <mark>the</mark> <mark>laws</mark>" in hit.snippet
    assert "keep the Confidential" in hit.snippet  # a lone "the" is not the phrase


def test_snippet_for_fuzzy_and_field_matches(corpus):
    fuzzy = search(corpus, "id:rcpt-cafe invoice").hits[0]
    assert "<mark>lnvoice</mark>" in fuzzy.snippet
    field = search(corpus, "law:delaware").hits[0]
    assert "<mark>Delaware</mark>" in field.snippet


def test_snippet_for_a_pure_filter_is_the_start_of_the_text(corpus):
    (hit,) = search(corpus, "type:letter").hits
    assert "<mark>" not in hit.snippet
    assert visible_text(hit.snippet).startswith("Dear Sir,")
    assert hit.page == 1


def test_negated_words_are_not_marked(corpus):
    (hit,) = search(corpus, "agreement -delaware").hits
    assert "<mark>AGREEMENT</mark>" in hit.snippet


def test_snippet_length_on_a_long_page(index):
    filler = " ".join(f"word{i}" for i in range(400))
    index.add([make_doc("long", f"{filler} needle {filler}")])
    (hit,) = index.search("needle").hits
    text = visible_text(hit.snippet)
    assert 150 <= len(text) <= 260
    assert "<mark>needle</mark>" in hit.snippet
    assert text.startswith("…") and text.endswith("…")


def test_snippet_with_non_ascii_text(index):
    index.add([make_doc("fr", "Facture de la société Élan Café — total dû 12,00 €\nmerci")])
    (hit,) = index.search("dû merci").hits
    assert "<mark>dû</mark>" in hit.snippet and "<mark>merci</mark>" in hit.snippet
    assert index.search("societe elan").total == 1  # accents folded


# ----------------------------------------------------------------------------- writing


def test_add_replaces_a_document_with_the_same_id(index):
    index.add([make_doc("d1", "old wording here")])
    index.add([make_doc("d1", "new wording here")])
    assert index.search("old").total == 0
    result = index.search("wording")
    assert ids(result) == ["d1"] and result.total == 1


def test_same_id_twice_in_one_call_keeps_the_last(index):
    index.add([make_doc("d1", "first version"), make_doc("d1", "second version")])
    assert ids(index.search("version")) == ["d1"]
    assert index.search("first").total == 0


def test_delete(index):
    index.add([make_doc("d1", "alpha text"), make_doc("d2", "alpha text")])
    index.delete(["d1", "does-not-exist"])
    assert ids(index.search("alpha")) == ["d2"]
    index.delete([])
    assert index.search("alpha").total == 1


def test_clear(index):
    index.add([make_doc(f"d{i}", "alpha") for i in range(3)])
    index.clear()
    assert index.search("alpha").total == 0
    index.add([make_doc("d9", "alpha")])
    assert ids(index.search("alpha")) == ["d9"]


def test_adding_nothing_is_fine(index):
    index.add([])
    index.add([make_doc("q", "x", status="quarantined")])
    assert index.search("-zzz").total == 0


def test_reopened_index_keeps_its_documents(factory, tmp_path):
    factory(tmp_path).add([make_doc("d1", "persistent words")])
    assert ids(factory(tmp_path).search("persistent")) == ["d1"]


def test_a_second_instance_sees_writes_immediately(factory, tmp_path):
    reader, writer = factory(tmp_path), factory(tmp_path)
    assert reader.search("fresh").total == 0
    writer.add([make_doc("d1", "fresh words")])
    assert ids(reader.search("fresh")) == ["d1"]


def test_upsert_across_instances(factory, tmp_path):
    factory(tmp_path).add([make_doc("d1", "first text")])
    factory(tmp_path).add([make_doc("d1", "second text")])
    result = factory(tmp_path).search("text")
    assert ids(result) == ["d1"] and result.total == 1
    assert "second" in result.hits[0].snippet


# ----------------------------------------------------------------------------- tags and review state


def tagged(doc: Document, *tags: str) -> Document:
    return doc.model_copy(update={"tags": list(tags)})


def test_tags_are_searched_whole_and_counted_in_facets(index):
    index.add([
        tagged(make_doc("t1", "alpha", doc_type="invoice"), "urgent", "audit-2026"),
        tagged(make_doc("t2", "alpha", doc_type="contract"), "urgent"),
        make_doc("t3", "alpha", doc_type="invoice"),
    ])
    assert id_set(index.search("tag:urgent")) == {"t1", "t2"}
    assert id_set(index.search("tag:URGENT")) == {"t1", "t2"}  # tags ignore case
    assert ids(index.search("tags:audit-2026")) == ["t1"]
    assert index.search("tag:audit").total == 0  # whole tags only, not words of them
    assert id_set(index.search("alpha -tag:urgent")) == {"t3"}
    assert index.search("urgent").total == 0  # a tag is not page text
    assert index.search("id:t1").hits[0].tags == ["audit-2026", "urgent"]
    assert index.facets("")["tags"] == [("urgent", 2), ("audit-2026", 1)]
    assert index.facets("type:invoice")["tags"] == [("audit-2026", 1), ("urgent", 1)]


def test_a_removed_tag_disappears_from_search_and_facets(index):
    index.add([tagged(make_doc("t1", "alpha"), "urgent"), tagged(make_doc("t2", "alpha"), "urgent")])
    index.add([make_doc("t1", "alpha")])  # the record's new version has no tags
    assert ids(index.search("tag:urgent")) == ["t2"]
    assert index.facets("")["tags"] == [("urgent", 1)]
    assert index.search("id:t1").hits[0].tags == []


def _reviewable(doc_id: str, confidence: float, **update) -> Document:
    doc = make_doc(doc_id, "beta", doc_type="receipt", fields={
        "vendor_name": "Shop", "invoice_date": "2024-01-02", "total_amount": "10.00"})
    doc = doc.model_copy(update={"fields": {n: f.model_copy(update={"confidence": confidence})
                                            for n, f in doc.fields.items()}})
    return doc.model_copy(update=update)


def test_review_state_is_indexed_searched_and_counted(index):
    low = _reviewable("low", 0.3)
    corrected = _reviewable("corrected", 0.99)
    corrected = corrected.model_copy(update={"fields": {**corrected.fields, "total_amount": FieldValue(
        value="11.00", confidence=0.2, source="user:ana")}})
    index.add([
        _reviewable("straight", 0.99),
        low,
        _reviewable("accepted", 0.3, accepted=Acceptance(by="user:rita", version=1)),
        corrected,
        make_doc("unclassified", "beta"),
    ])
    assert id_set(index.search("review:needs-review")) == {"low", "unclassified"}
    assert id_set(index.search("review:accepted")) == {"accepted", "corrected"}
    assert ids(index.search("review:auto")) == ["straight"]
    assert id_set(index.search("beta -review:needs-review")) == {"straight", "accepted", "corrected"}
    assert index.search("id:low").hits[0].review == "needs-review"
    assert index.facets("")["review"] == [("accepted", 2), ("needs-review", 2), ("auto", 1)]
    assert index.facets("type:receipt")["review"] == [("accepted", 2), ("auto", 1), ("needs-review", 1)]
    # A reviewer accepts: the new version leaves the queue.
    index.add([low.model_copy(update={"accepted": Acceptance(by="user:rita", version=1)})])
    assert ids(index.search("review:needs-review")) == ["unclassified"]
    assert index.facets("")["review"] == [("accepted", 3), ("auto", 1), ("needs-review", 1)]


def test_the_index_threshold_decides_the_review_state(index):
    doc = _reviewable("d1", 0.9)
    index.add([doc])
    assert ids(index.search("review:auto")) == ["d1"]
    index.review_threshold = 0.95  # what `ecm reindex` does after the threshold was raised
    index.add([doc])
    assert ids(index.search("review:needs-review")) == ["d1"]


# ----------------------------------------------------------------------------- paging


def test_total_counts_all_matches_and_limit_offset_page_through(index):
    index.add([make_doc(f"d{i:02}", f"common words number {i}") for i in range(25)])
    pages = [index.search("common", limit=10, offset=offset) for offset in (0, 10, 20)]
    assert [p.total for p in pages] == [25, 25, 25]
    assert [len(p.hits) for p in pages] == [10, 10, 5]
    seen = [hit.id for p in pages for hit in p.hits]
    assert len(set(seen)) == 25
    assert index.search("common", limit=10, offset=30).hits == []
    counted = index.search("common", limit=0)
    assert counted.total == 25 and counted.hits == []


def test_hits_are_ordered_by_score(corpus):
    scores = [hit.score for hit in search(corpus, "agreement OR invoice OR fee").hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("limit, offset", [(-1, 0), (10, -1), (10**6, 0)])
def test_bad_paging_is_a_usage_error(corpus, limit, offset):
    with pytest.raises(QuerySyntaxError, match="limit must be"):
        corpus.search("acme", limit=limit, offset=offset)


# ----------------------------------------------------------------------------- errors and output


@pytest.mark.parametrize(
    "query, message",
    [
        ('"unclosed', "unbalanced quote"),
        ("(acme", "missing ')'"),
        ("colour:red", "unknown field"),
        ("date:2018-99", "bad date"),
        ("amount:lots", "bad amount"),
    ],
)
def test_bad_syntax_raises_query_syntax_error(corpus, query, message):
    with pytest.raises(QuerySyntaxError, match=re.escape(message)):
        corpus.search(query)


def test_query_syntax_error_is_a_search_error():
    assert issubclass(QuerySyntaxError, SearchError)


@pytest.mark.parametrize("query", ["acme", "type:letter", "-zzz", "lnvoice", "nothing-matches-this", ""])
def test_json_output_matches_the_contract(corpus, query):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    output = json.loads(json.dumps(corpus.search(query).model_dump()))
    jsonschema.validate(output, schema)
    assert set(output) >= {"total", "hits", "took_ms"}
    for hit in output["hits"]:
        assert set(hit) >= {"id", "sha256", "source", "doc_type", "score", "snippet", "page", "fields"}


def test_hit_model_round_trips():
    hit = Hit(id="a", sha256="0" * 64, source="s", doc_type=None, score=1.0, snippet="", page=None)
    assert Hit.model_validate(hit.model_dump()) == hit


# ----------------------------------------------------------------------------- entry_from_document


def test_entry_from_document_types_the_fields():
    entry = entry_from_document(CORPUS[0])
    assert entry is not None
    assert entry.doc_type == "invoice"
    assert [n for n, _ in entry.pages] == [1, 2]
    assert entry.text_fields["vendor_name"] == ("ACME Corporation",)
    assert str(entry.dates["invoice_date"][0]) == "2018-03-05"
    assert entry.amounts == {"total_amount": (150.0,), "tax_amount": (15.0,)}
    assert len(entry.all_dates) == 2


def test_entry_from_document_carries_tags_and_the_review_state():
    doc = tagged(CORPUS[0], "Urgent ", "audit-2026", "urgent")
    entry = entry_from_document(doc)
    assert entry.tags == ("audit-2026", "urgent") and entry.review == "auto"
    assert entry_from_document(doc, review_threshold=0.95).review == "needs-review"  # fields at 0.9
    assert entry_from_document(CORPUS[6]).review == "needs-review"  # unclassified


def test_entry_from_document_skips_unindexable_documents():
    assert entry_from_document(make_doc("q", "x", status="quarantined")) is None
    assert entry_from_document(make_doc(None, "x")) is None


def test_malformed_field_values_stay_searchable_as_text(index):
    index.add([make_doc("odd", "body", fields={"invoice_date": "05/03/2018", "total_amount": "about 12"})])
    assert index.search("date:2018").total == 0
    assert index.search("amount:12").total == 0
    assert ids(index.search("about")) == ["odd"]
    assert index.search("id:odd").hits[0].fields["invoice_date"] == "05/03/2018"


# ----------------------------------------------------------------------------- embedded backend only


def test_embedded_index_rebuilds_an_incompatible_folder_on_clear(tmp_path):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("something_else", stored=True)
    old = tantivy.Index(builder.build(), path=str(tmp_path))
    writer = old.writer(15_000_000, 1)
    writer.add_document(tantivy.Document(something_else="old"))
    writer.commit()
    writer.wait_merging_threads()
    del old, writer
    (tmp_path / "keep.txt").write_text("not the index's")

    ix = EmbeddedIndex(tmp_path)
    with pytest.raises(SearchError, match="ecm reindex"):
        ix.search("anything")
    with pytest.raises(SearchError, match="ecm reindex"):
        ix.add([make_doc("d1", "words")])
    ix.clear()
    ix.add([make_doc("d1", "words")])
    assert ids(ix.search("words")) == ["d1"]
    assert (tmp_path / "keep.txt").exists()


def test_embedded_index_creates_missing_folders(tmp_path):
    EmbeddedIndex(tmp_path / "a" / "b").add([make_doc("d1", "x y")])
    assert (tmp_path / "a" / "b" / "meta.json").exists()


def test_embedded_writer_lock_times_out_with_a_clear_message(tmp_path):
    holder = EmbeddedIndex(tmp_path)
    blocked = EmbeddedIndex(tmp_path, lock_timeout_s=0.2)
    writer = holder._usable().writer(15_000_000, 1)  # another writer holds the folder lock
    try:
        with pytest.raises(SearchError, match="being written by another process"):
            blocked.add([make_doc("d1", "x")])
    finally:
        writer.wait_merging_threads()
    blocked.add([make_doc("d1", "x")])
    assert holder.search("id:d1").total == 1


@pytest.mark.parametrize("query", documented_queries())
def test_every_documented_query_runs(corpus, query):
    result = corpus.search(query)
    assert result.total >= 0


def test_embedded_index_is_shared_by_processes(tmp_path):
    # Another process (say `ecm ingest` beside `ecm serve`) writes and reads the same folder.
    child_code = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).resolve().parents[1])!r}, {str(Path(__file__).resolve().parent)!r}]
        from test_search import make_doc
        from search import EmbeddedIndex
        ix = EmbeddedIndex({str(tmp_path)!r})
        for i in range(5):
            ix.add([make_doc(f"child-{{i}}", "shared words")])
        """
    )
    ix = EmbeddedIndex(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", child_code])
    for i in range(5):
        ix.add([make_doc(f"parent-{i}", "shared words")])
    assert child.wait(timeout=120) == 0
    assert ix.search("shared").total == 10

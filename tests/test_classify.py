"""classify: the shipped model types clearly written documents; the stage contract holds."""

from __future__ import annotations

import math

import pytest

from classify import classify, predict_scores, train
from ecm.document import DOC_TYPES
from test_classify_synthetic import document, page_from_rows, text_page

INVOICE = """ACME Widgets Ltd
12 Harbour Road, Bristol BS1 4QA
INVOICE
Invoice Number: INV-2041
Invoice Date: 14/03/2023
Due Date: 13/04/2023
Bill To: Northwind Traders, 5 Mill Lane, Leeds
Description Qty Unit price Amount
Consulting services 10 95.00 950.00
Travel expenses 1 120.00 120.00
Subtotal 1,070.00
VAT 20% 214.00
Total due GBP 1,284.00
Payment terms: 30 days. Please pay by bank transfer to account 12345678."""

RECEIPT = """KEDAI RUNCIT MAJU JAYA SDN BHD
(CO REG 123456-X)
NO 12 JALAN MERANTI 3, TAMAN SRI MUDA
40400 SHAH ALAM SELANGOR
TEL 03-5512 3344
GST NO 000123456789
SIMPLIFIED TAX INVOICE
CASHIER: AMIN DATE: 05/06/2018 14:22
MILO 1KG 1 x 16.90 16.90 SR
GARDENIA BREAD 1 x 3.70 3.70 ZR
TOTAL QTY 2
TOTAL (INCL GST) RM 20.60
CASH RM 50.00
CHANGE RM 29.40
THANK YOU PLEASE COME AGAIN"""

CONTRACT = """MUTUAL NONDISCLOSURE AGREEMENT
This Mutual Nondisclosure Agreement (the "Agreement") is entered into as of June 1, 2015 by and between
Alpha Robotics, Inc., a Delaware corporation ("Alpha"), and Beta Optics LLC, a California limited liability
company ("Beta"). In connection with a possible business relationship, each party may disclose
Confidential Information to the other party. The Receiving Party shall hold the Confidential Information
in strict confidence and shall not disclose it to any third party. This Agreement shall remain in effect
for a period of two (2) years from the Effective Date. This Agreement shall be governed by and construed
in accordance with the laws of the State of New York, without regard to its conflict of laws principles.
IN WITNESS WHEREOF the parties have executed this Agreement as of the date first written above."""


@pytest.mark.parametrize("text,label", [(INVOICE, "invoice"), (RECEIPT, "receipt"), (CONTRACT, "contract")])
def test_shipped_model_types_clear_documents(text, label):
    doc = classify(document([text_page(text)]))
    assert doc.doc_type.label == label
    assert 0.0 <= doc.doc_type.confidence <= 1.0
    assert doc.doc_type.source == "classify.model"


def test_probabilities_cover_every_type_and_sum_to_one():
    scores = predict_scores(document([text_page(INVOICE)]))
    assert set(scores) == set(DOC_TYPES)
    assert math.isclose(sum(scores.values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= p <= 1.0 for p in scores.values())


def test_scanned_and_text_layer_copies_classify_alike():
    # Same words, once as a text layer (points) and once as OCR output (pixels, lower confidence).
    rows = [[(line, 40)] for line in CONTRACT.splitlines()]
    born_digital = page_from_rows(rows)
    scanned = page_from_rows([[(t, x * 300 / 72)] for row in rows for t, x in row], unit="px",
                             width=2550, height=3300, conf=0.8, line_gap=16 * 300 / 72)
    a, b = classify(document([born_digital])), classify(document([scanned]))
    assert a.doc_type.label == b.doc_type.label == "contract"


def test_document_without_words_is_other_with_low_confidence():
    doc = classify(document([page_from_rows([])]))
    assert doc.doc_type.label == "other"
    assert doc.doc_type.confidence <= 0.5


def test_quarantined_document_passes_through_unchanged():
    doc = document([text_page(INVOICE)]).quarantine("broken file")
    assert classify(doc) is doc


def test_classify_returns_a_new_document():
    doc = document([text_page(RECEIPT)])
    out = classify(doc)
    assert out is not doc and doc.doc_type is None


def test_train_on_small_corpus_and_letter_never_crashes():
    examples = [(INVOICE, "invoice"), (INVOICE.replace("INV-2041", "INV-77"), "invoice"),
                (RECEIPT, "receipt"), (RECEIPT.replace("MILO", "TEH"), "receipt"),
                (CONTRACT, "contract"), (CONTRACT.replace("Alpha", "Gamma"), "contract")]
    model = train(examples)  # seed texts add letter/form/other examples
    assert "letter" in model.labels
    letter = document([text_page("Dear Ms. Patel,\nThank you for your letter. We are pleased to "
                                 "confirm your appointment.\nYours sincerely,\nJohn Smith")])
    out = classify(letter, model)
    assert out.doc_type.label in DOC_TYPES
    without_seeds = train(examples, use_seed_texts=False)
    scores = predict_scores(letter, without_seeds)
    assert scores["letter"] == 0.0  # never trained on letters: probability 0, no crash


def test_train_rejects_unknown_labels():
    with pytest.raises(ValueError):
        train([(INVOICE, "invoice"), (RECEIPT, "bill")], use_seed_texts=False)


def test_the_page_cache_is_read_again_when_the_file_changed(tmp_path, monkeypatch):
    """A bench cache entry belongs to the bytes it was read from: a new folder reusing an id
    (or a replaced file) must not be scored on another document's pages."""
    import json

    import ingest
    from classify.corpus import cached_document, read_manifest
    from ecm.document import Document

    reads = []

    def fake_read(path):
        reads.append(path.read_text())
        page = text_page(f"Document holding {path.read_text()}")
        return Document(id="x", source=str(path), sha256="x", status="ok", pages=[page])

    monkeypatch.setattr(ingest, "read_document", fake_read)
    (tmp_path / "doc.txt").write_text("first")
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"id": "d1", "path": "doc.txt", "doc_type": "other"}) + "\n")
    entry = read_manifest(tmp_path)[0]
    cache = tmp_path / "cache"
    assert "first" in cached_document(tmp_path, entry, cache).text
    assert "first" in cached_document(tmp_path, entry, cache).text and reads == ["first"]  # cached
    (tmp_path / "doc.txt").write_text("second")
    assert "second" in cached_document(tmp_path, entry, cache).text and reads == ["first", "second"]


def test_a_fillable_pdf_the_model_cannot_place_is_a_form():
    plain = document([text_page("The quick brown fox jumps over the lazy dog near the river bank.")])
    assert classify(plain).doc_type.label == "other"
    fillable = classify(plain.model_copy(update={"form_fields": 2})).doc_type
    assert (fillable.label, fillable.source) == ("form", "classify.form_fields")
    # Fillable fields do not overrule a document the model reads as a business type.
    invoice = document([text_page(INVOICE)]).model_copy(update={"form_fields": 3})
    assert classify(invoice).doc_type.label == "invoice"

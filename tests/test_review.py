"""extract.review: one threshold decides; the reasons say why a document needs a person."""

from __future__ import annotations

from ecm.document import DocType, FieldValue
from extract.review import needs_review
from test_classify_synthetic import document, page_from_rows


def _doc(label="receipt", class_conf=0.99, **fields):
    doc = document([page_from_rows([[("x", 40)]])], label)
    doc = doc.model_copy(update={"doc_type": DocType(label=label, confidence=class_conf)})
    return doc.model_copy(update={"fields": {k: v for k, v in fields.items()}})


GOOD = dict(vendor_name=FieldValue(value="Shop", confidence=0.99),
            invoice_date=FieldValue(value="2024-01-02", confidence=0.97),
            total_amount=FieldValue(value="10.00", confidence=0.95))


def test_confident_complete_document_passes_straight_through():
    assert needs_review(_doc(**GOOD), 0.9) == []


def test_low_class_and_low_field_and_missing_field_are_reasons():
    fields = dict(GOOD, total_amount=FieldValue(value="10.00", confidence=0.5))
    fields.pop("invoice_date")
    reasons = needs_review(_doc(class_conf=0.7, **fields), 0.9)
    assert any(r.startswith("document type 'receipt'") for r in reasons)
    assert "invoice_date: not found" in reasons
    assert any(r.startswith("total_amount '10.00': confidence 0.50") for r in reasons)
    assert len(reasons) == 3
    # A lower threshold lets the same document through except for the missing field.
    assert needs_review(_doc(class_conf=0.7, **fields), 0.4) == ["invoice_date: not found"]


def test_validation_problems_and_user_values():
    doc = _doc(**GOOD).model_copy(update={"problems": ["invoice_date 2031-01-01 is in the future"]})
    assert needs_review(doc, 0.9) == ["invoice_date 2031-01-01 is in the future"]
    corrected = dict(GOOD, total_amount=FieldValue(value="11.00", confidence=0.1, source="user:ana"))
    assert needs_review(_doc(**corrected), 0.9) == []  # a person's value is trusted


def test_quarantined_and_unclassified():
    assert needs_review(_doc(**GOOD).quarantine("broken"), 0.9) == []
    doc = _doc(**GOOD).model_copy(update={"doc_type": None})
    assert needs_review(doc, 0.9) == ["document type not decided"]

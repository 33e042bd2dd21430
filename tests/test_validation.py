"""extract.validation: each rule fires on a bad document and stays quiet on a good one."""

from __future__ import annotations

from datetime import date

from ecm.document import FieldValue
from extract import VendorBook, validate
from extract.validation import check_fields
from test_classify_synthetic import document, page_from_rows

TODAY = date(2024, 6, 30)


def _doc(values: dict, rows=None, label="invoice"):
    rows = rows or [[("Northwind Supplies Ltd", 40)]]
    doc = document([page_from_rows(rows)], label)
    return doc.model_copy(update={"fields": {k: FieldValue(value=v, confidence=0.9) for k, v in values.items()}})


SUM_ROWS = [
    [("Northwind Supplies Ltd", 40)],
    [("Subtotal", 300), ("100.00", 450)],
    [("VAT 20%", 300), ("20.00", 450)],
    [("Total", 300), ("120.00", 450)],
]


def test_total_equal_to_subtotal_plus_tax_passes():
    doc = _doc({"total_amount": "120.00", "tax_amount": "20.00"}, SUM_ROWS)
    assert check_fields(doc, today=TODAY) == []


def test_total_not_subtotal_plus_tax_is_a_problem():
    doc = _doc({"total_amount": "130.00", "tax_amount": "20.00"}, SUM_ROWS)
    problems = check_fields(doc, today=TODAY)
    assert problems == ["total_amount 130.00, tax_amount 20.00 and subtotal 100.00 do not add up (subtotal + tax = 120.00)"]


def test_tax_inclusive_subtotal_and_printed_rounding_pass():
    inclusive = [[("Shop Sdn Bhd", 40)], [("Sub Total", 40), ("21.77", 200)], [("GST 6%", 40), ("1.23", 200)],
                 [("Total", 40), ("21.77", 200)]]
    assert check_fields(_doc({"total_amount": "21.77", "tax_amount": "1.23"}, inclusive), today=TODAY) == []
    rounded = [[("Shop Sdn Bhd", 40)], [("Sub Total", 40), ("20.53", 200)], [("GST", 40), ("1.23", 200)],
               [("Rounding", 40), ("0.04", 200)], [("Total", 40), ("21.80", 200)]]
    assert check_fields(_doc({"total_amount": "21.80", "tax_amount": "1.23"}, rounded), today=TODAY) == []


def test_without_a_subtotal_line_nothing_is_claimed():
    assert check_fields(_doc({"total_amount": "130.00", "tax_amount": "20.00"}), today=TODAY) == []


def test_future_and_impossible_and_ancient_dates():
    problems = check_fields(_doc({"invoice_date": "2024-07-01"}), today=TODAY)
    assert problems and "future" in problems[0]
    assert check_fields(_doc({"invoice_date": "2024-06-30"}), today=TODAY) == []
    assert "not a calendar date" in check_fields(_doc({"invoice_date": "2023-02-30"}), today=TODAY)[0]
    assert "implausibly old" in check_fields(_doc({"invoice_date": "1901-01-01"}), today=TODAY)[0]


def test_due_date_before_invoice_date():
    problems = check_fields(_doc({"invoice_date": "2024-03-10", "due_date": "2024-03-01"}), today=TODAY)
    assert problems == ["due_date 2024-03-01 is before invoice_date 2024-03-10"]
    assert check_fields(_doc({"invoice_date": "2024-03-10", "due_date": "2024-04-09"}), today=TODAY) == []


def _book() -> VendorBook:
    book = VendorBook()
    for i, (number, total) in enumerate([("INV-00121", "10.00"), ("INV-00135", "55.00"), ("INV-00150", "99.90")]):
        book.learn({"vendor_name": "Northwind Supplies Ltd", "invoice_number": number, "total_amount": total},
                   doc_id=f"doc{i}")
    return book


def test_invoice_number_shape_learned_from_the_vendor_history():
    book = _book()
    odd = _doc({"vendor_name": "Northwind Supplies Ltd", "invoice_number": "17/2024"})
    problems = check_fields(odd, vendors=book, today=TODAY)
    assert len(problems) == 1 and "AAA-DDDDD" in problems[0]
    usual = _doc({"vendor_name": "Northwind Supplies Ltd", "invoice_number": "INV-00188"})
    assert check_fields(usual, vendors=book, today=TODAY) == []
    # A vendor without history is not judged.
    new = _doc({"vendor_name": "Fresh Vendor GmbH", "invoice_number": "17/2024"})
    assert check_fields(new, vendors=book, today=TODAY) == []


def test_duplicate_from_vendorbook_and_from_a_lookup():
    book = _book()
    dup = _doc({"vendor_name": "NORTHWIND SUPPLIES LTD", "invoice_number": "INV-00135", "total_amount": "55.00"})
    problems = check_fields(dup, vendors=book, today=TODAY)
    assert problems == ["possible duplicate of document doc1 (same vendor, invoice number INV-00135 and total 55.00)"]
    other_total = _doc({"vendor_name": "Northwind Supplies Ltd", "invoice_number": "INV-00135", "total_amount": "56.00"})
    assert check_fields(other_total, vendors=book, today=TODAY) == []
    calls = []

    def lookup(vendor, number, total):
        calls.append((vendor, number, total))
        return "stored-42" if number == "A-1" else None

    hit = _doc({"vendor_name": "Acme", "invoice_number": "A-1", "total_amount": "5.00"})
    assert "stored-42" in check_fields(hit, today=TODAY, duplicate_of=lookup)[0]
    assert calls == [("Acme", "A-1", "5.00")]


def test_validate_stage_appends_once_and_skips_quarantined():
    doc = _doc({"invoice_date": "2030-01-01"})
    once = validate(doc, today=TODAY)
    assert once is not doc and len(once.problems) == 1
    assert validate(once, today=TODAY).problems == once.problems  # idempotent
    assert validate(doc.quarantine("bad"), today=TODAY).problems == []
    clean = _doc({"invoice_date": "2024-01-01"})
    assert validate(clean, today=TODAY).problems == []

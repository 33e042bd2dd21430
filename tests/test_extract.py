"""extract: fields from synthetic invoice, receipt and contract layouts."""

from __future__ import annotations

from ecm.document import FieldValue, Word
from extract import Calibration, extract
from test_classify_synthetic import document, page_from_rows, text_page


def _inside(fv: FieldValue, page) -> bool:
    x0, y0, x1, y1 = fv.bbox
    return 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height


def _check_provenance(doc):
    for name, fv in doc.fields.items():
        assert 0.0 <= fv.confidence <= 1.0, name
        assert fv.page is not None and 1 <= fv.page <= len(doc.pages), name
        assert fv.bbox is not None and _inside(fv, doc.pages[fv.page - 1]), name
        assert fv.source.startswith("extract."), name


US_INVOICE_ROWS = [
    [("Brightline Consulting LLC", 40)],
    [("450 Market Street, Suite 200", 40)],
    [("San Francisco, CA 94105", 40)],
    [("INVOICE", 400)],
    [("Invoice Number:", 360), ("BC-10442", 470)],          # value right of the label
    [("Invoice Date:", 360), ("03/04/2024", 470)],
    [("Due Date", 360)],                                       # value below the label
    [("04/03/2024", 360)],
    [("Bill To:", 40)],
    [("Harbor Freight Partners Inc.", 40)],
    [("88 Pier Avenue, Oakland, CA 94607", 40)],
    [("P.O. Number:", 360), ("PO-7781", 470)],
    [("Description", 40), ("Amount", 470)],
    [("Strategy workshop", 40), ("$1,200.00", 470)],
    [("Subtotal", 360), ("$1,200.00", 470)],
    [("Sales Tax (8.5%)", 360), ("$102.00", 470)],
    [("Total Due", 360), ("$1,302.00", 470)],
]


def test_invoice_labels_right_and_below_with_month_first_dates():
    page = page_from_rows(US_INVOICE_ROWS)
    doc = extract(document([page], "invoice"))
    f = {k: v.value for k, v in doc.fields.items()}
    assert f["invoice_number"] == "BC-10442"
    assert f["po_number"] == "PO-7781"
    # US address + $ -> month-first: 03/04/2024 is March 4th.
    assert f["invoice_date"] == "2024-03-04"
    assert f["due_date"] == "2024-04-03"
    assert f["total_amount"] == "1302.00"  # the total due, not the subtotal
    assert f["tax_amount"] == "102.00"
    assert f["currency"] == "USD"
    assert f["vendor_name"] == "Brightline Consulting LLC"  # not the Bill To company
    assert f["vendor_address"].startswith("450 Market Street")
    assert doc.fields["invoice_number"].source == "extract.layout"
    _check_provenance(doc)


def test_day_first_decided_by_an_unambiguous_date_elsewhere():
    rows = [
        [("Nordlicht Handel GmbH", 40)],
        [("Invoice No:", 40), ("2024-17", 200)],
        [("Invoice Date:", 40), ("03/04/2024", 200)],
        [("Delivery:", 40), ("25/03/2024", 200)],  # 25 > 12: this document writes day first
        [("Grand Total", 40), ("EUR 1.234,50", 200)],
    ]
    doc = extract(document([page_from_rows(rows)], "invoice"))
    assert doc.fields["invoice_date"].value == "2024-04-03"
    assert doc.fields["total_amount"].value == "1234.50"  # European thousands/decimal marks
    assert doc.fields["currency"].value == "EUR"


RECEIPT_ROWS = [
    [("SYARIKAT MAJU JAYA SDN BHD", 40)],
    [("(CO REG 123456-X)", 60)],
    [("NO 12 JALAN MERANTI 3,", 40)],
    [("40400 SHAH ALAM SELANGOR", 40)],
    [("TEL 03-5512 3344", 40)],
    [("SIMPLIFIED TAX INVOICE", 60)],
    [("DATE: 05/06/2018", 40), ("14:22", 220)],
    [("MILO 1KG", 40), ("16.90", 240)],
    [("T0TAL QTY: 2", 40)],
    [("SUB T0TAL", 40), ("RM 20.60", 200)],
    [("GST 6%", 40), ("1.17", 240)],
    [("T0TAL", 40), ("RM 21.77", 200)],                    # OCR-mangled label, value far right
    [("CASH", 40), ("RM 50.00", 200)],
    [("CHANGE", 40), ("RM 28.23", 200)],
]


def test_receipt_fields_with_ocr_noise_and_malaysian_day_first_date():
    page = page_from_rows(RECEIPT_ROWS, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    doc = extract(document([page], "receipt"))
    f = {k: v.value for k, v in doc.fields.items()}
    assert f["vendor_name"] == "SYARIKAT MAJU JAYA SDN BHD"
    assert f["vendor_address"] == "NO 12 JALAN MERANTI 3, 40400 SHAH ALAM SELANGOR"
    assert f["invoice_date"] == "2018-06-05"  # SDN BHD / RM: day-first
    assert f["total_amount"] == "21.77"  # not the subtotal, not the cash tendered
    assert f["currency"] == "MYR"
    assert "invoice_number" not in f  # not a receipt field
    _check_provenance(doc)


def _receipt_field(rows, name: str, shop: str = "KEDAI RUNCIT SRI MAJU") -> str | None:
    head = [[(shop, 40)], [("NO 3 JALAN BESAR,", 40)], [("43000 KAJANG", 40)]]
    page = page_from_rows(head + rows, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    found = extract(document([page], "receipt")).fields.get(name)
    return found.value if found else None


def _receipt_total(rows) -> str | None:
    return _receipt_field(rows, "total_amount")


def test_an_amount_ocr_split_into_three_pieces_is_read_whole():
    # "RM39 . 00": OCR saw gaps around the decimal point.
    assert _receipt_total([[("ROTI 2", 40), ("RM26.00", 200)], [("Grand Total", 40), ("RM39 . 00", 180)]]) == "39.00"


def test_an_ocr_misread_inclusive_still_lifts_the_tax_veto():
    rows = [
        [("Total Sales (Excluding GST) :", 40), ("20.00", 240)],
        [("Total GST:", 40), ("1.20", 240)],
        [("Total Sales (Inciusive of GsT)", 40), ("21.20", 240)],  # "Inclusive" misread
        [("GST SUMMARY", 40)],
        [("Total :", 40), ("20.00", 200), ("1.20", 250)],
    ]
    assert _receipt_total(rows) == "21.20"


def test_a_label_ocr_glued_together_is_still_a_label():
    rows = [[("SUB TOTAL", 40), ("295.00", 240)], [("ROUNDING ADJ", 40), ("-0.02", 240)],
            [("NETTOTAL", 40), ("343.95", 240)]]
    assert _receipt_total(rows) == "343.95"


def test_cash_minus_change_outweighs_a_weak_amount_label():
    rows = [[("Amount 14:11", 40), ("RM3.77", 220)], [("GST 6%", 40), ("RM0.23", 220)],
            [("Paid", 40), ("RM4.00", 220)], [("Change", 40), ("RM0.00", 220)]]
    assert _receipt_total(rows) == "4.00"


def test_paid_amount_printed_again_outweighs_a_tax_summary_total():
    # The grand total's label is lost to OCR; cash - change = 599.45 is printed on that line too.
    rows = [[("(3A S4los (Inclusive of GST) :", 40), ("599.45", 240)], [("CASH :", 40), ("599.45", 240)],
            [("Change :", 40), ("0.00", 240)], [("Tax Code % Amt (RM) Tax (RM)", 40)],
            [("Total:", 40), ("77.93", 240)]]
    assert _receipt_total(rows) == "599.45"


def test_a_value_box_taller_than_its_label_is_still_on_its_row():
    head = [[("KEDAI RUNCIT SRI MAJU", 40)], [("NO 3 JALAN BESAR,", 40)], [("43000 KAJANG", 40)]]
    page = page_from_rows(head + [[("Subtotal:", 40), ("99.85", 200)], [("Total:", 40)]],
                          unit="px", width=300, height=600, line_gap=20, conf=0.9)
    x0, y0, x1, y1 = page.words[-1].bbox  # "Total:" — its amount printed larger, reaching lower
    page.words.append(Word(text="105.00", bbox=(200, y0 + 3, 260, y1 + 14), conf=0.9, line=99))
    assert extract(document([page], "receipt")).fields["total_amount"].value == "105.00"


def test_grand_total_preferred_over_total_and_subtotal():
    rows = [
        [("Sunrise Foods Ltd", 40)],
        [("Invoice #", 40), ("5521", 200)],
        [("Sub-total", 40), ("£900.00", 300)],
        [("Total", 40), ("£900.00", 300)],
        [("VAT", 40), ("£180.00", 300)],
        [("Grand Total", 40), ("£1,080.00", 300)],
    ]
    doc = extract(document([page_from_rows(rows)], "invoice"))
    assert doc.fields["total_amount"].value == "1080.00"
    assert doc.fields["tax_amount"].value == "180.00"
    assert doc.fields["currency"].value == "GBP"
    assert doc.fields["invoice_number"].value == "5521"


CONTRACT_TEXT = """CONFIDENTIALITY AGREEMENT
This Confidentiality Agreement (the "Agreement") is made and entered into as of March 15, 2019 (the
"Effective Date") by and between Orion Data Systems, Inc., a Delaware corporation ("Orion"), and
Meridian Health Partners, LLC, a Texas limited liability company ("Meridian").
1. Confidential Information. Each party may disclose certain information to the other party.
2. Term. This Agreement shall remain in effect for a period of two (2) years from the Effective Date.
3. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of
the State of Texas, without regard to conflicts of law principles.
"""


def test_contract_fields_from_preamble_and_clauses():
    doc = extract(document([text_page(CONTRACT_TEXT)], "contract"))
    f = {k: v.value for k, v in doc.fields.items()}
    assert f["title"] == "CONFIDENTIALITY AGREEMENT"
    assert f["parties"] == ["Orion Data Systems, Inc.", "Meridian Health Partners, LLC"]
    assert f["effective_date"] == "2019-03-15"
    assert f["governing_law"] == "Texas"
    assert f["term"] == "P2Y"
    _check_provenance(doc)


def test_contract_term_in_months_and_second_page_governing_law():
    p1 = text_page("NON-DISCLOSURE AGREEMENT\nThis Agreement is dated as of the 3rd day of July, 2017, between "
                   "Acme Holdings Limited and Zenith Labs Corp. The obligations of this Agreement shall "
                   "terminate eighteen (18) months after the date hereof.")
    p2 = text_page("This Agreement will be governed by the laws of England and Wales.", number=2)
    doc = extract(document([p1, p2], "contract"))
    f = {k: v.value for k, v in doc.fields.items()}
    assert f["effective_date"] == "2017-07-03"
    assert f["term"] == "P18M"
    assert f["parties"] == ["Acme Holdings Limited", "Zenith Labs Corp."]
    assert f["governing_law"] == "England and Wales"
    assert doc.fields["governing_law"].page == 2
    _check_provenance(doc)


def test_labelled_value_is_more_confident_than_a_positional_guess():
    # Raw confidences rank how values were found; the shipped calibration then maps each field's
    # own curve to measured probabilities (a field's clean guesses may be right more often than
    # another field's labelled values), so the ranking is checked before calibration.
    doc = extract(document([page_from_rows(US_INVOICE_ROWS)], "invoice"), calibration=Calibration.identity())
    assert doc.fields["invoice_number"].confidence > doc.fields["vendor_address"].confidence


def test_quarantined_and_untyped_and_other_documents():
    quarantined = document([page_from_rows(US_INVOICE_ROWS)], "invoice").quarantine("bad")
    assert extract(quarantined) is quarantined
    other = extract(document([page_from_rows(US_INVOICE_ROWS)], "other"))
    assert other.fields == {}
    empty = extract(document([page_from_rows([])], "invoice"))
    assert empty.fields == {}


def test_user_values_survive_re_extraction():
    doc = document([page_from_rows(US_INVOICE_ROWS)], "invoice")
    doc = doc.model_copy(update={"fields": {"invoice_number": FieldValue(value="X-1", confidence=1.0,
                                                                        source="user:ana")}})
    assert extract(doc).fields["invoice_number"].value == "X-1"


def test_an_amount_split_after_its_first_decimal_is_read_whole():
    # "60.2 4": OCR saw a gap before the last digit.
    assert _receipt_total([[("ITEM A", 40), ("RM42.35", 200)], [("Total Payable:", 40), ("60.2 4", 200)]]) == "60.24"


def _receipt_date(rows) -> str | None:
    return _receipt_field(rows, "invoice_date", shop="KEDAI RUNCIT SRI MAJU SDN BHD")  # SDN BHD: day-first


def test_item_codes_are_not_dates_and_a_misread_decade_is_repaired():
    # "11/2 - 10/240" is an item code, not 11 Feb 2010; the date is printed at the foot.
    assert _receipt_date([[("MH11/2 - 10/240", 40)], [("2X 3.10", 40), ("6.20", 200)],
                          [("22-04-16 12:01 SH01", 40)]]) == "2016-04-22"
    # Tesseract read the 1 of 2018 as a 7: no receipt is dated 2078.
    assert _receipt_date([[("Doc No: CS00013033", 40)], [("Date: 23/05/2078", 40)]]) == "2018-05-23"
    assert _receipt_date([[("Date: 23/05/2098", 40)]]) is None  # no slip explains 2098


def _invoice_fields(rows) -> dict:
    head = [[("Northwind Lodging Pvt Ltd", 40)], [("25 Koil Street, Chennai 600061", 40)], [("TAX INVOICE", 400)]]
    page = page_from_rows(head + rows)
    return {k: v.value for k, v in extract(document([page], "invoice")).fields.items()}


def test_booking_id_and_foreign_invoice_labels_but_not_a_vat_number():
    hotel = _invoice_fields([[("Booking ID", 40)], [("IBZY2087", 40)], [("Grand Total", 40), ("Rs 1939", 470)]])
    assert (hotel["invoice_number"], hotel["total_amount"], hotel["currency"]) == ("IBZY2087", "1939.00", "INR")
    dutch = _invoice_fields([[("Factuur datum", 40), ("Factuur", 200)], [("8-9-2022", 40), ("VF1005193039", 200)],
                             [("Uw BTW nummer: NL00333599698", 40)], [("Totaal", 40), ("49,99", 470)]])
    assert dutch["invoice_number"] == "VF1005193039"


def test_an_invoice_number_ocr_split_at_its_underscore_is_read_whole():
    f = _invoice_fields([[("Invoice No : # BLR _WFLD20151000982590", 40)], [("Total Due", 360), ("$12.00", 470)]])
    assert f["invoice_number"] == "BLR_WFLD20151000982590"


def test_french_amount_to_pay_outweighs_a_total_column():
    f = _invoice_fields([[("Total facture", 40)], [("24.99", 40), ("5.00", 200)],
                         [("Somme à payer", 40)], [("29.99 € TTC", 40)]])
    assert f["total_amount"] == "29.99"

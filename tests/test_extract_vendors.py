"""extract.vendors (VendorBook), extract.calibration and the newer receipt/invoice layout rules."""

from __future__ import annotations

import random

from extract import Calibration, VendorBook, extract
from extract.calibration import fit_curve
from extract.vendors import number_shape
from test_classify_synthetic import document, page_from_rows


def _book() -> VendorBook:
    book = VendorBook()
    book.learn({"vendor_name": "KEDAI MAJU JAYA SDN BHD", "vendor_address": "NO 12 JALAN MERANTI 3, 40400 SHAH ALAM",
                "total_amount": "5.00"})
    book.learn({"vendor_name": "Northwind Supplies Ltd", "invoice_number": "INV-00121", "total_amount": "10.00"},
               doc_id="d1")
    return book


def test_vendorbook_matches_an_ocr_misspelled_known_vendor():
    book = _book()
    m = book.match_name("KEDAI MAJU JAVA SON BHD")
    assert m is not None and m.name == "KEDAI MAJU JAYA SDN BHD" and 0.85 <= m.score < 1.0
    # A registration number after the name still matches (a little less strongly).
    assert book.match_name("KEDAI MAJU JAYA SDN BHD (123456-X)").name == "KEDAI MAJU JAYA SDN BHD"
    assert book.match_name("TOTALLY DIFFERENT TRADING") is None
    assert VendorBook().match_name("anything") is None


def test_vendorbook_round_trips_through_json(tmp_path):
    book = _book()
    path = tmp_path / "vendors.json"
    book.save(path)
    again = VendorBook.load(path)
    assert again.match_name("NORTHWIND SUPPLIES LTD").name == "Northwind Supplies Ltd"
    assert again.number_shapes("Northwind Supplies Ltd") == {"AAA-DDDDD": 1}
    assert again.seen("northwind supplies ltd", "INV00121", "10") == "d1"
    assert VendorBook.load(tmp_path / "missing.json").vendors == {}
    assert number_shape("INV-2024/07") == "AAA-DDDD/DD"


RECEIPT = [
    [("KEDAI MAJU JAVA SON BHD", 40)],          # OCR slips in a known name
    [("(CO REG 123456-X)", 60)],
    [("NO 12 JALAN MERANTl 3,", 40)],
    [("40400 SHAH ALAM", 40)],
    [("TEL 03-5512 3344", 40)],
    [("DATE: 05/06/2018", 40)],
    [("TOTAL", 40), ("RM 5.00", 200)],
]


def test_extract_uses_the_vendorbook_for_name_and_address():
    page = page_from_rows(RECEIPT, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    plain = extract(document([page], "receipt"), calibration=Calibration.identity())
    assert plain.fields["vendor_name"].value == "KEDAI MAJU JAVA SDN BHD"  # suffix OCR fix only
    known = extract(document([page], "receipt"), vendors=_book(), calibration=Calibration.identity())
    assert known.fields["vendor_name"].value == "KEDAI MAJU JAYA SDN BHD"
    assert known.fields["vendor_name"].source == "extract.vendorbook"
    assert known.fields["vendor_address"].value == "NO 12 JALAN MERANTI 3, 40400 SHAH ALAM"


def test_receipt_name_over_two_lines_and_registration_number_dropped():
    rows = [[("POPULAR BOOK", 60)], [("CO. (M) SDN BHD", 50)], [("(Co. No. 113825-W)", 50)],
            [("No 8, Jalan 7/118B, Desa Tun Razak", 20)], [("56000 Kuala Lumpur", 40)], [("Tel 03-9201 1111", 40)]]
    page = page_from_rows(rows, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    f = extract(document([page], "receipt")).fields
    assert f["vendor_name"].value == "POPULAR BOOK CO. (M) SDN BHD"
    assert f["vendor_address"].value == "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur"
    rows2 = [[("GARDENIA BAKERIES (KL) SDN BHD (139386 X)", 20)], [("LOT 3, JALAN PELABUR 23/1", 20)],
             [("40300 SHAH ALAM", 20)]]
    page2 = page_from_rows(rows2, unit="px", width=400, height=600, line_gap=20, conf=0.9)
    assert extract(document([page2], "receipt")).fields["vendor_name"].value == "GARDENIA BAKERIES (KL) SDN BHD"


def test_invoice_columns_are_kept_apart_and_company_is_not_a_label():
    rows = [[("Your Company Inc.", 48)], [("1234 Company St,", 48)], [("Company Town, ST 12345", 48)],
            [("INVOICE", 382)], [("Bill To", 48)], [("Customer Name", 48)]]
    f = extract(document([page_from_rows(rows)], "invoice")).fields
    assert f["vendor_name"].value == "Your Company Inc."  # "Company" is part of the name, not a label
    assert f["vendor_address"].value == "1234 Company St, Company Town, ST 12345"
    # One OCR/text line holding two columns: the FROM block is not read into the TO block.
    rows = [[("INVOICE", 400)], [("FROM: Company ABC", 48), ("TO: John Doe", 330)],
            [("ADDRESS: 111 Main Street", 48), ("ADDRESS: 222 Main Street", 330)]]
    page = page_from_rows(rows)
    merged = [w.model_copy(update={"line": int(w.bbox[1])}) for w in page.words]  # one line id per row
    page = page.model_copy(update={"words": merged})
    assert extract(document([page], "invoice")).fields["vendor_name"].value == "Company ABC"


def test_calibration_is_monotone_and_within_0_1():
    rng = random.Random(7)
    scores = [rng.random() for _ in range(400)]
    correct = [rng.random() < s for s in scores]  # the higher the score, the likelier right
    curve = fit_curve(scores, correct)
    ys = [y for _, y in curve]
    assert ys == sorted(ys) and all(0.0 < y < 1.0 for y in ys)
    cal = Calibration.fit([("total_amount", "layout", s, c) for s, c in zip(scores, correct)])
    probe = [cal.field("total_amount", "layout", x / 20) for x in range(21)]
    assert probe == sorted(probe) and all(0.0 <= p <= 1.0 for p in probe)
    assert probe[0] < 0.3 and probe[-1] > 0.7
    # Unknown field and method fall back to the pooled curve; an empty calibration is the identity.
    assert cal.field("vendor_name", "ner", 0.9) == cal.field("total_amount", "layout", 0.9) or "field:*" in cal.curves
    assert Calibration.identity().field("x", "y", 0.42) == 0.42
    # All-correct evidence never claims certainty (Laplace smoothing).
    assert fit_curve([0.9] * 5, [True] * 5)[-1][1] < 1.0


def test_vendorbook_corrects_a_misread_address_but_not_another_branch():
    book = VendorBook()
    book.learn({"vendor_name": "QUICK MART S/B",
                "vendor_address": "LOT P.T. 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR 1032-SUBANG PERDANA"})
    misread = book.match_address("QUICK MART S/B", "LOT P.T. 2811, JALAN ANG5A, TANAN BERKELEY 41150 KLANG, SELANGOR 1032-SUBANG PERDANA")
    assert misread is not None and misread.name.endswith("1032-SUBANG PERDANA")
    other = "LOT P.T. 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR 1237-TMN INDAH PERDANA"
    assert book.match_address("QUICK MART S/B", other) is None


def test_a_bare_dollar_sign_is_less_sure_than_a_code_or_an_unambiguous_symbol():
    def currency(total: str):
        rows = [[("Northwind Supplies Inc.", 40)], [("INVOICE", 400)], [("Total Due", 360), (total, 470)]]
        fv = extract(document([page_from_rows(rows)], "invoice"), calibration=Calibration.identity()).fields["currency"]
        return fv.value, fv.confidence

    dollar, euro, code = currency("$120.00"), currency("€120.00"), currency("120.00 USD")
    assert (dollar[0], euro[0], code[0]) == ("USD", "EUR", "USD")
    assert dollar[1] < euro[1] and dollar[1] < code[1]

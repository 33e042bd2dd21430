"""extract: the vendor's name and address block of receipts and invoices, as OCR leaves it."""

from __future__ import annotations

import pytest

from extract import extract
from extract.dates import date_order
from extract.ocrfix import fix_confusions
from extract.rules import load_rules
from test_classify_synthetic import document, page_from_rows


def _fields(rows, doc_type="receipt") -> dict:
    if doc_type == "receipt":
        page = page_from_rows(rows, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    else:
        page = page_from_rows(rows)
    return {k: v.value for k, v in extract(document([page], doc_type)).fields.items()}


@pytest.mark.parametrize("read, meant", [
    ("400OO SHAH ALAM", "40000 SHAH ALAM"),  # O for 0 in a postcode
    ("52oo0 KL", "52000 KL"),
    ("L0T 5, GR0UND FL00R", "LOT 5, GROUND FLOOR"),  # 0 for O in words
    ("LOT P.T. 2B11", "LOT P.T. 2811"),  # B for 8 between digits
    ("IB51-A", "1851-A"),
    ("411SO KLANG", "41150 KLANG"),
    ("JALAN ANG5A", "JALAN ANGSA"),  # a digit for a letter inside a word
    ("Shell PE1RO", "Shell PEIRO"),
    ("LOT N0.:G1.116A, PYRAMID,N0.3", "LOT NO.:G1.116A, PYRAMID,NO.3"),  # the abbreviation "No"
    ("A-G-O6, DATARAN", "A-G-06, DATARAN"), ("NO.I5 JLN", "NO.15 JLN"),  # a letter for a digit, two characters
])
def test_ocr_digit_letter_swaps_are_undone(read, meant):
    assert fix_confusions(read) == meant


@pytest.mark.parametrize("text", ["S117, SECOND FLOOR", "JALAN 7/118B", "SS21/1A", "145G", "UNIT A0", "10T",
                                  "NOVA U5/N", "SS4C/5", "A-G-06", "KPB6A",
                                  "BLOK B1", "LG 26", "NO 8"])
def test_lot_numbers_with_letters_are_left_alone(text):
    assert fix_confusions(text) == text


def test_a_date_and_a_tax_number_between_name_and_address_are_stepped_over():
    rows = [
        [("KEDAI BUKU CERIA SDN BHD", 40)],
        [("10 Mar 2018 18:24", 60)],
        [("GST Reg No. 001234567890", 40)],
        [("12, Jalan Merbau 7/4,", 40)],
        [("81200 Johor Bahru, Johor", 40)],
        [("TAX INVOICE", 60)],
        [("Total", 40), ("8.20", 220)],
    ]
    f = _fields(rows)
    assert f["vendor_name"] == "KEDAI BUKU CERIA SDN BHD"
    assert f["vendor_address"] == "12, Jalan Merbau 7/4, 81200 Johor Bahru, Johor"


def test_the_shop_heading_the_receipt_wins_over_a_company_named_after_the_title():
    rows = [
        [("PERNIAGAAN SINAR BARU", 40)],
        [("NO.9 JALAN MAWAR 2", 40)],
        [("81750 MASAI", 40)],
        [("TEL: 07-386 1111", 40)],
        [("SIMPLIFIED TAX INVOICE", 40)],
        [("GOLDEN ENGINEERING (M) SDN BHD", 40)],  # the customer, or an owner, below the title
        [("TOTAL", 40), ("12.00", 220)],
    ]
    f = _fields(rows)
    assert f["vendor_name"] == "PERNIAGAAN SINAR BARU"
    assert f["vendor_address"] == "NO.9 JALAN MAWAR 2 81750 MASAI"


def test_a_name_with_its_registration_number_beats_a_postcode_line():
    rows = [
        [("KEDAI CERIA CO. (M) BHO (126926-H)", 40)],  # OCR: "BHD" read "BHO"; reg number after it
        [("3RD FLR, PLAZA MELATI", 40)],
        [("CHERAS, 55100 KUALA LUMPUR", 40)],
        [("GST ID : 002017394688", 40)],
        [("TOTAL", 40), ("15.00", 220)],
    ]
    f = _fields(rows)
    assert f["vendor_name"].startswith("KEDAI CERIA CO. (M)")
    assert f["vendor_address"] == "3RD FLR, PLAZA MELATI CHERAS, 55100 KUALA LUMPUR"


def test_a_labelled_field_is_not_the_vendor_name():
    rows = [
        [("Salesperson : Ahmad", 40)],
        [("KEDAI MURAH", 40)],
        [("NO 3 JALAN BESAR", 40)],
        [("43000 KAJANG", 40)],
        [("TOTAL", 40), ("5.00", 220)],
    ]
    assert _fields(rows)["vendor_name"] == "KEDAI MURAH"


def test_the_address_stops_where_the_items_begin():
    rows = [
        [("PERNIAGAAN RIA", 40)],
        [("TAX INVOICE", 60)],
        [("NO7, JLN MERAK, SHAH ALAM.", 40)],
        [("2 X 10.66 BASIN", 40), ("21.32", 220)],
        [("TOTAL", 40), ("22.60", 220)],
    ]
    assert _fields(rows)["vendor_address"] == "NO7, JLN MERAK, SHAH ALAM"


def test_the_name_repeated_with_the_branch_is_not_part_of_the_address():
    rows = [
        [("KEDAI ROTI MAJU", 40)],
        [("GST REF NO : 001694251246", 40)],
        [("KEDAI ROTI MAJU TAMAN UNIVERSITI", 40)],
        [("30, JLN KEBUDAYAAN 7, TMN UNIVERSITI", 40)],
        [("81300 SKUDAI, JOHOR", 40)],
        [("TOTAL", 40), ("9.00", 220)],
    ]
    assert _fields(rows)["vendor_address"] == "30, JLN KEBUDAYAAN 7, TMN UNIVERSITI 81300 SKUDAI, JOHOR"


def test_a_receipts_address_starts_at_a_line_that_looks_like_one():
    rows = [
        [("RIANG STOOGES", 40)],
        [("BISTRO & CAFE", 40)],  # the shop's tagline under its name
        [("A-G-06, DATARAN MEGAH,", 40)],  # a lot number opens the address
        [("47301 PETALING JAYA", 40)],
        [("TOTAL", 40), ("9.00", 220)],
    ]
    assert _fields(rows)["vendor_address"] == "A-G-06, DATARAN MEGAH, 47301 PETALING JAYA"


def test_a_name_under_a_short_label_runs_on_past_the_labels_column_but_not_into_the_next():
    rows = [
        [("Invoice", 40)],
        [("From:", 40), ("Invoice Number", 400)],
        [("Northwind Web Design Studio", 40), ("INV-3337", 400)],
        [("Suite 5A-1204, 123 Somewhere Street", 40)],
        [("Total Due", 40), ("$93.50", 400)],
    ]
    fields = _fields(rows, "invoice")
    assert fields["vendor_name"] == "Northwind Web Design Studio" and fields["invoice_number"] == "INV-3337"


def test_the_address_ends_with_its_country():
    rows = [
        [("POPULAR KEDAI BUKU SDN BHD", 40)],
        [("No 8, Jalan 7/118B, Desa Tun Razak", 40)],
        [("56000 Kuala Lumpur, Malaysia", 40)],
        [("SUNWAY VELOCITY", 40)],  # the mall the shop is in
        [("TOTAL", 40), ("9.00", 220)],
    ]
    assert _fields(rows)["vendor_address"] == "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur, Malaysia"


def test_a_registration_number_opening_the_address_is_dropped():
    rows = [
        [("SYARIKAT ANGSA SDN BHD", 40)],
        [("(CO REG : 123456-X) LOT 5, JALAN KPB 6,", 40)],
        [("43300 SERI KEMBANGAN", 40)],
        [("TOTAL", 40), ("9.00", 220)],
    ]
    assert _fields(rows)["vendor_address"] == "LOT 5, JALAN KPB 6, 43300 SERI KEMBANGAN"


def test_an_invoice_name_loses_the_title_and_address_sharing_its_line():
    rows = [
        [("Northwind Cloud Services Invoice", 40)],
        [("Invoice Number:", 360), ("NW-2231", 470)],
        [("Total Due", 360), ("$50.00", 470)],
    ]
    assert _fields(rows, "invoice")["vendor_name"] == "Northwind Cloud Services"
    rows = [
        [("Hostwerk AG - Uferweg 12 - D-63571 Gelnhausen", 40)],
        [("Rechnung Nr:", 360), ("R-2231", 470)],
        [("Gesamtbetrag", 360), ("50,00 EUR", 470)],
    ]
    assert _fields(rows, "invoice")["vendor_name"] == "Hostwerk AG"


def test_an_address_label_is_not_part_of_the_address_and_a_left_column_is_ignored():
    rows = [
        [("Invoice Date", 300), ("Fabrikam Ltd", 420)],
        [("14 Sep 2021", 300), ("ADDRESS: 12 Dove Lane", 420)],
        [("Invoice Number", 300), ("Seattle WA 98101", 420)],
        [("INV-7", 300)],
        [("Total", 300), ("$10.00", 470)],
    ]
    f = _fields(rows, "invoice")
    assert f["vendor_name"] == "Fabrikam Ltd"
    assert f["vendor_address"] == "12 Dove Lane Seattle WA 98101"


def test_number_runs_that_are_not_dates_do_not_decide_the_date_order():
    rules = load_rules()
    # "12 - 20/1000" and "10.85 .65" look month-first but are not dates; the receipt is Malaysian.
    text = "KEDAI SDN BHD\nSELANGOR\n12 - 20/1000\n10.85 .65\n07-06-16 15:26\nTOTAL RM 5.00"
    assert date_order(text, rules) == "DMY"
    assert date_order("Delivered 13/02/2024\n12/20/2024", rules) == "DMY"  # real dates still vote


def test_an_exhibit_number_before_a_month_first_date_is_not_its_day():
    from extract.dates import find_dates

    assert [d.value for d in find_dates("Exhibit 10.1\nMarch 15, 2016", "DMY")] == ["2016-03-15"]
    assert [d.value for d in find_dates("on 1 March 15 we met", "DMY")] == ["2015-03-01"]


def test_one_unsure_word_makes_the_whole_value_unsure():
    from ecm.document import Word
    from extract.found import Found, raw_confidence

    rules = load_rules()
    sure = [Word(text=t, bbox=(i * 50, 0, i * 50 + 40, 10), conf=0.95) for i, t in enumerate("LOT 3 JALAN PELABUR 23/1".split())]
    one_unsure = [w.model_copy(update={"conf": 0.2}) if w.text == "JALAN" else w for w in sure]
    high = raw_confidence(Found("LOT 3 JALAN PELABUR 23/1", sure, 1, "position"), rules)
    low = raw_confidence(Found("LOT 3 JALAN PELABUR 23/1", one_unsure, 1, "position"), rules)
    # Four sure words of five would average 0.8; the least sure word decides instead.
    assert low == pytest.approx(rules.confidence["position"] * (0.6 + 0.4 * 0.2), abs=1e-3)
    assert low < 0.75 * high


def test_an_invoice_number_glued_to_its_label_is_read():
    rows = [
        [("Free Telecom SAS", 40)],
        [("Facture n°562044387 du 02 Juillet 2015", 40)],
        [("A/c No.0000", 40)],  # an account number is not the invoice number
        [("Total TTC", 360), ("29,99 €", 470)],
    ]
    assert _fields(rows, "invoice")["invoice_number"] == "562044387"
    rows = [[("Free Telecom SAS", 40)], [("Invoice Number:", 40), ("invoice_number_1", 200)],
            [("Total", 360), ("9.99", 470)]]
    assert _fields(rows, "invoice")["invoice_number"] == "invoice_number_1"  # "_" glues no label


def test_a_number_that_says_what_it_is_stands_in_for_a_missing_label():
    rows = [
        [("NAVLO@) CG E", 40), ("#INV-2025-001", 300)],  # the title "INVOICE" lost to OCR
        [("Acme Corporation", 40)],
        [("Total", 360), ("$120.00", 470)],
    ]
    assert _fields(rows, "invoice")["invoice_number"] == "INV-2025-001"


def test_the_senders_web_or_mail_address_picks_the_vendor_line():
    rows = [
        [("Global Wholesaler", 40)],  # the customer, printed first
        [("Azure Interior", 40)],
        [("4557 De Silva St", 40)],
        [("Invoice Number:", 360), ("INV/2023/0008", 470)],
        [("Total", 360), ("$279.84", 470)],
        [("(870)-931-0505 http://www.azure-interior.com", 40)],
    ]
    assert _fields(rows, "invoice")["vendor_name"] == "Azure Interior"
    rows = [
        [("Invoice", 40)],
        [("8636 Sentinel Place", 40)],
        [("Jaxson Van Doorn", 40)],
        [("jaxson.vandoorn@gmail.com", 40)],  # a personal mailbox names its person
        [("Services:", 40)],
        [("Total", 360), ("$500.00", 470)],
    ]
    assert _fields(rows, "invoice")["vendor_name"] == "Jaxson Van Doorn"


def test_a_bare_dollar_sign_takes_the_currency_of_the_place_named():
    rows = [
        [("KEDAI BUKU CERIA SDN BHD", 40)],
        [("12, Jalan Merbau 7/4, 81200 Johor Bahru", 40)],
        [("Total Amount:", 40), ("$8.20", 220)],
    ]
    assert _fields(rows)["currency"] == "MYR"  # Malaysian tills print "$" for ringgit
    rows = [[("Northwind Traders Inc.", 40)], [("Invoice No:", 360), ("7", 470)], [("Total", 360), ("$8.20", 470)]]
    assert _fields(rows, "invoice")["currency"] == "USD"
    rows = [[("Harbour Freight Pty Ltd", 40)], [("ABN 12 345 678 901", 40)], [("Total", 360), ("$8.20 USD", 470)]]
    assert _fields(rows, "invoice")["currency"] == "USD"  # a printed code outranks the place


def test_a_name_continued_on_a_second_line_with_an_ampersand():
    rows = [
        [("CORNER HARDWARE", 40)],
        [("& SUPPLY", 60)],
        [("302 Main Street", 40)],
        [("Millbrook, NY 12545", 40)],
        [("TOTAL", 40), ("$55.07", 220)],
    ]
    f = _fields(rows)
    assert f["vendor_name"] == "CORNER HARDWARE & SUPPLY"
    assert f["vendor_address"] == "302 Main Street Millbrook, NY 12545"


def test_a_legal_name_of_initials_and_a_shop_named_after_its_place_are_names():
    initials = _fields([[("|", 40)], [("HR. O.1.¥. (4) SDN BHD", 40)], [("Co-REG:860671-D", 40)],
                        [("| LOT 1851-A & 1851-B, JALAN KPB 6,", 40)], [("| 43300 SERI KEMBANGAN, SELANGOR", 40)],
                        [("(GST ID No 2000306020352)", 40)], [("{MUTIARA KOMPLEKS )", 40)], [("TOTAL", 40), ("12.50", 200)]])
    assert initials["vendor_name"] == "HR. O.1.¥. (4) SDN BHD"
    # The paper's edge read as "|" is no part of the address.
    assert initials["vendor_address"] == "LOT 1851-A & 1851-B, JALAN KPB 6, 43300 SERI KEMBANGAN, SELANGOR"
    branch = _fields([[("TAX INVOICE", 40)], [("GST REF NO : 001694251246", 40)], [("PIZZA PALACE TAMAN UNIVERSITI", 40)],
                      [("30, Jln Kebudayaan 7, Tmn Universiti", 40)], [("81300 Skudai, Johor", 40)],
                      [("Qty Menu Desc Price", 40)], [("TOTAL", 40), ("12.50", 200)]])
    assert branch["vendor_name"] == "PIZZA PALACE TAMAN UNIVERSITI"
    assert branch["vendor_address"] == "30, Jln Kebudayaan 7, Tmn Universiti 81300 Skudai, Johor"


def test_a_heading_with_a_colon_is_no_name_and_a_mail_address_with_an_ocr_gap_still_spells_it():
    rows = [[("Invoice", 40)], [("Services:", 40)], [("Marla Quenby", 40)], [("8636 Sentinel Place", 40)],
            [("marla. quenby@gmail.com", 40)], [("Invoice To:", 40)], [("Woofers Inc", 40)],
            [("Total Due", 360), ("$120.00", 470)]]
    assert _fields(rows, "invoice")["vendor_name"] == "Marla Quenby"


def test_a_misread_sdn_bhd_still_makes_a_legal_name_below_the_footer_text():
    rows = [[("Thank You, Please come again.", 40)], [("For feedback or complaint, please call:", 40)],
            [("Kedai Runcit Maju Sdn. khd", 40)], [("(317041-W)", 40)], [("PT17920, SEKSYEN U9,", 40)],
            [("40150 SHAH ALAM,", 40)], [("TOTAL", 40), ("12.50", 200)]]
    f = _fields(rows)
    assert f["vendor_name"] == "Kedai Runcit Maju SDN BHD"
    assert f["vendor_address"] == "PT17920, SEKSYEN U9, 40150 SHAH ALAM"


def test_a_legal_suffix_is_recognised_after_its_ocr_fix():
    rows = [[("POST EE", 40)], [("77 QUICK MART 5/B (519537-X)", 40)], [("LOT P.T. 2811, JALAN ANGSA,", 40)],
            [("41150 KLANG, SELANGOR", 40)], [("TOTAL", 40), ("12.50", 200)]]
    f = _fields(rows)
    assert (f["vendor_name"], f["vendor_address"]) == ("77 QUICK MART S/B", "LOT P.T. 2811, JALAN ANGSA, 41150 KLANG, SELANGOR")

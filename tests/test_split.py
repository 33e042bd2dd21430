"""Splitting batch scans into documents: separator pages, barcode and patch-code sheets,
'Page 1 of N', and first pages of invoices and contracts in batches without separators."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from ecm.cli import app
from ecm.document import Page, Word
from ingest.split import RULES_FILE, document_parts, document_ranges, load_rules
from tests.conftest import SAMPLES, need_data
from tests.test_patchcode import patch_sheet

RULES = load_rules()


def page(number: int, text: str = "", barcodes: list[str] | None = None, **kw) -> Page:
    """A page of text, one word every 10 px, one line every 20 px (the top third is 14 lines)."""
    words = []
    for line_no, line in enumerate(text.splitlines()):
        words += [Word(text=t, bbox=(10 * i, 20 * line_no, 10 * i + 8, 20 * line_no + 10), line=line_no)
                  for i, t in enumerate(line.split())]
    fields = {"width": 600, "height": 800, "unit": "px", "source": "ocr"} | kw
    return Page(number=number, words=words, barcodes=barcodes or [], **fields)


BODY = "\n".join(f"line {i} of an ordinary page with several words" for i in range(12))


def test_blank_pages_separate_and_are_dropped():
    pages = [page(1, BODY), page(2, BODY), page(3, ""), page(4, BODY), page(5, "·"), page(6, BODY)]
    assert document_ranges(pages, RULES) == [[1, 2], [4], [6]]


def test_separator_sheet_text_and_barcodes():
    pages = [page(1, BODY), page(2, "DOCUMENT SEPARATOR\nplace before each document"), page(3, BODY),
             page(4, "", barcodes=["SEP-0001"]), page(5, BODY)]
    assert document_ranges(pages, RULES) == [[1], [3], [5]]


def test_a_full_page_of_text_is_never_a_separator_sheet():
    text = BODY + "\nsee the separator sheet instructions in appendix B"
    pages = [page(1, BODY), page(2, text), page(3, BODY, barcodes=["4006381333931"])]
    assert document_ranges(pages, RULES) == [[1, 2, 3]]


def test_page_one_of_n_starts_a_document_without_separators():
    pages = [page(1, "Page 1 of 2\n" + BODY), page(2, BODY + "\nPage 2 of 2"),
             page(3, "INVOICE\n" + BODY + "\nPage 1 of 1"), page(4, BODY + "\nPage 1 of 3"),
             page(5, BODY + "\nPage 2 of 3")]
    assert document_ranges(pages, RULES) == [[1, 2], [3], [4, 5]]


def test_page_number_in_the_body_is_not_a_boundary():
    body = "\n".join(["a heading"] * 5 + ["as stated on page 1 of 4 of the schedule"] + ["more body text"] * 5)
    pages = [page(1, BODY), page(2, body)]
    assert document_ranges(pages, RULES) == [[1, 2]]


def test_patch_sheets_separate_and_patch_4_carries_on():
    pages = [page(1, BODY), page(2, "control sheet", barcodes=["PATCH:T"]), page(3, BODY),
             page(4, "", barcodes=["PATCH:4"]), page(5, BODY), page(6, "", barcodes=["PATCH:2"]), page(7, BODY)]
    parts = document_parts(pages, RULES)
    assert [p.pages for p in parts] == [[1], [3, 5], [7]]  # every patch sheet dropped; 4 does not split
    assert [p.reason for p in parts] == ["start of the batch", "after a patch T sheet (page 2)",
                                         "after a patch 2 sheet (page 6)"]


def test_which_patch_codes_separate_is_configured(tmp_path: Path):
    rules_file = tmp_path / "separators.toml"
    rules_file.write_text(RULES_FILE.read_text().replace('patch_separators = ["1", "2", "3", "6", "T"]',
                                                         'patch_separators = ["2"]'))
    rules = load_rules(rules_file)
    pages = [page(1, BODY), page(2, "", barcodes=["PATCH:T"]), page(3, BODY), page(4, "", barcodes=["PATCH:2"]),
             page(5, BODY)]
    assert document_ranges(pages, rules) == [[1, 3], [5]]


def test_a_patch_code_on_a_page_of_text_is_content():
    pages = [page(1, BODY), page(2, BODY, barcodes=["PATCH:2"])]
    assert document_ranges(pages, RULES) == [[1, 2]]


def test_every_separator_gives_its_reason():
    pages = [page(1, BODY), page(2, ""), page(3, BODY), page(4, "", barcodes=["SEP-0001"]), page(5, BODY),
             page(6, "DOCUMENT SEPARATOR\nplace before each document"), page(7, BODY)]
    assert [p.reason for p in document_parts(pages, RULES)] == [
        "start of the batch", "after a blank page (page 2)", "after a barcode sheet 'SEP-0001' (page 4)",
        "after a separator sheet (page 6)"]


def invoice_text(vendor: str, number: str, more: str = "") -> str:
    return (f"{vendor}     INVOICE\n12 Harbour Road\nInvoice No: {number}\nInvoice Date: 2024-05-0{len(vendor) % 9}\n"
            f"Bill To:\nLarkspur Analytics\n{more}" + BODY)


def test_three_invoices_without_separators_split_at_their_new_numbers():
    pages = [page(1, invoice_text("Harrowgate Print Works", "HPW-58812")),
             page(2, invoice_text("Harrowgate Print Works", "HPW-58812")),  # its second page repeats the header
             page(3, invoice_text("Quillfeather Stationery", "QS-2024-0173")),
             page(4, BODY),
             page(5, invoice_text("Birchwood Supplies", "BFS-10442"))]
    parts = document_parts(pages, RULES)
    assert [p.pages for p in parts] == [[1, 2], [3, 4], [5]]
    assert parts[1].reason == "page 3 starts a document: invoice number QS-2024-0173 after HPW-58812"
    assert "BFS-10442 after QS-2024-0173" in parts[2].reason


def test_an_invoice_number_misread_by_ocr_is_still_the_same_invoice():
    pages = [page(1, invoice_text("Quillfeather Stationery", "QS-2024-0173")),
             page(2, invoice_text("Quillfeather Stationery", "QS-2O24-O173"))]  # O for 0
    assert document_ranges(pages, RULES) == [[1, 2]]


def test_the_same_invoice_number_vetoes_even_other_paper():
    pages = [page(1, invoice_text("Acme Corporation", "INV-1001"), dpi=100),
             page(2, invoice_text("Acme Corporation", "INV-1001"), dpi=100, width=300, height=800, source="text")]
    assert document_ranges(pages, RULES) == [[1, 2]]


def test_continuation_marks_veto_a_new_invoice_number():
    second = invoice_text("Acme Corporation", "INV-1002")
    assert document_ranges([page(1, invoice_text("Acme Corporation", "INV-1001")),
                            page(2, "INVOICE (continued)\n" + second)], RULES) == [[1, 2]]
    assert document_ranges([page(1, invoice_text("Acme Corporation", "INV-1001")),
                            page(2, second + "\nPage 2 of 2")], RULES) == [[1, 2]]
    assert document_ranges([page(1, invoice_text("Acme Corporation", "INV-1001") + "\nContinued on next page"),
                            page(2, second)], RULES) == [[1, 2]]


TITLE = ("MUTUAL NON-DISCLOSURE AGREEMENT\n\nThis Mutual Non-Disclosure Agreement (the Agreement) is made as of\n"
         "March 4, 2024 by and between Larkspur Analytics, Inc. and Copperfield Robotics LLC.\n")


def test_a_contract_title_page_starts_a_document_and_its_continuation_does_not():
    running_header = "MUTUAL NON-DISCLOSURE AGREEMENT\n"
    pages = [page(1, BODY), page(2, TITLE + BODY),
             page(3, running_header + "5. Term\nThis Agreement binds the parties, made between them as stated.\n" + BODY),
             page(4, "12. Entire Agreement\nThis Agreement is the entire agreement made between the parties.\n" + BODY),
             page(5, "EXHIBIT A\nFORM OF ESCROW AGREEMENT\nThis Escrow Agreement is made by and between A and B\n" + BODY),
             page(6, "IN WITNESS WHEREOF the parties have signed.\nBy: ____\nBy: ____")]
    parts = document_parts(pages, RULES)
    assert [p.pages for p in parts] == [[1], [2, 3, 4, 5, 6]]
    assert parts[1].reason == "page 2 starts a document: title page 'MUTUAL NON-DISCLOSURE AGREEMENT'"


def test_a_cover_page_with_the_title_is_not_a_separate_document():
    pages = [page(1, "EX-10.33 Mutual Non-Disclosure Agreement"), page(2, TITLE + BODY)]
    assert document_ranges(pages, RULES) == [[1, 2]]


def test_paper_and_source_changes_need_each_other():
    letter_text = dict(unit="pt", width=612, height=792, source="text")
    letter_scan = dict(unit="px", width=2550, height=3300, dpi=300, source="ocr")
    receipt_scan = dict(unit="px", width=900, height=2400, dpi=300, source="ocr")
    landscape = dict(unit="pt", width=792, height=612, source="text")
    # A scanned signature page at the end of a born-digital contract, a landscape table: one document.
    assert document_ranges([page(1, BODY, **letter_text), page(2, BODY, **letter_scan)], RULES) == [[1, 2]]
    assert document_ranges([page(1, BODY, **letter_text), page(2, BODY, **landscape)], RULES) == [[1, 2]]
    # A receipt scanned on its own small paper after a born-digital letter: two.
    parts = document_parts([page(1, BODY, **letter_text), page(2, BODY, **receipt_scan)], RULES)
    assert [p.pages for p in parts] == [[1], [2]]
    assert parts[1].reason == ("page 2 starts a document: paper 3.0x8.0 in after 8.5x11.0 in; "
                               "scanned page after a text layer")


def test_an_invoice_header_alone_needs_a_second_sign():
    header_only = "INVOICE\nGreenleaf Market\n" + BODY
    assert document_ranges([page(1, BODY), page(2, header_only)], RULES) == [[1, 2]]
    on_other_paper = document_parts([page(1, BODY, dpi=100), page(2, header_only, dpi=100, width=350, height=800)], RULES)
    assert [p.pages for p in on_other_paper] == [[1], [2]]
    assert "invoice header at the top" in on_other_paper[1].reason


def invoice_pdf(pdf: FPDF, vendor: str, number: str, pages: int = 1) -> None:
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 20)
        pdf.cell(0, 10, "INVOICE", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for line in (vendor, "12 Harbour Road, Leeds", f"Invoice No: {number}", "Invoice Date: 12 July 2024", ""):
            pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        for item in range(12):
            pdf.cell(0, 7, f"Item {item + 1}: printing services, {item + 2} units at 12.50 each", new_x="LMARGIN", new_y="NEXT")
        if n < pages:
            pdf.cell(0, 7, f"Page {n} of {pages}", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(0, 7, f"Total due: {100 * len(vendor)}.00 GBP", new_x="LMARGIN", new_y="NEXT")


def test_ingest_split_cuts_three_generated_invoices_and_audits_why(tmp_path: Path):
    pdf = FPDF(format="letter")
    invoice_pdf(pdf, "Harrowgate Print Works Ltd", "HPW-58812", pages=2)
    invoice_pdf(pdf, "Quillfeather Stationery Co.", "QS-2024-0173")
    invoice_pdf(pdf, "Birchwood Facility Services", "BFS-10442")
    batch = tmp_path / "invoices.pdf"
    pdf.output(str(batch))
    env = {"ECM_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(app, ["ingest", "--split", "--json", str(batch)], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [line["source"].rsplit("#", 1)[1] for line in lines] == ["pages=1-2", "pages=3-3", "pages=4-4"]
    audit = CliRunner().invoke(app, ["audit", "--action", "split", "--json"], env=env)
    reasons = {json.loads(x)["doc_id"]: json.loads(x)["detail"]["reason"] for x in audit.stdout.splitlines()}
    assert reasons[lines[1]["id"]] == "page 3 starts a document: invoice number QS-2024-0173 after HPW-58812"
    assert reasons[lines[2]["id"]] == "page 4 starts a document: invoice number BFS-10442 after QS-2024-0173"


def patch_sheet_pdf(code: str, turn: int = 0) -> bytes:
    """A scanned patch sheet with a line of text that is not a separator phrase (so only the bars
    can make it a separator), skewed and speckled, as an image-only PDF page."""
    sheet = patch_sheet(code, 200, turn=turn, skew=2.0, noise=0.06, seed=7)
    ImageDraw.Draw(sheet).text((300, 1200), "Mailroom control sheet for batch 17, do not remove", fill=0,
                               font=ImageFont.load_default(size=40))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PDF", resolution=200)
    return buffer.getvalue()


def test_ingest_split_drops_patch_sheets_between_three_documents(tmp_path: Path):
    """invoice | patch T | contract p1 | patch 4 | contract p2-3 | patch 2 (turned) | letter."""
    path = tmp_path / "patch-batch.pdf"
    contract = pikepdf.open(SAMPLES / "contract_nda_larkspur_copperfield.pdf")
    parts = [pikepdf.open(SAMPLES / "invoice_harrowgate_HPW-58812.pdf"), pikepdf.open(io.BytesIO(patch_sheet_pdf("T"))),
             pikepdf.open(io.BytesIO(patch_sheet_pdf("4"))), pikepdf.open(io.BytesIO(patch_sheet_pdf("2", turn=90))),
             pikepdf.open(SAMPLES / "letter_ashgrove_lease_renewal.pdf")]
    invoice, patch_t, patch_4, patch_2, letter = parts
    with pikepdf.new() as out:
        for src_page in [*invoice.pages, *patch_t.pages, contract.pages[0], *patch_4.pages, *contract.pages[1:],
                         *patch_2.pages, *letter.pages]:
            out.pages.append(src_page)
        out.save(path)
    for src in [contract, *parts]:
        src.close()
    env = {"ECM_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(app, ["ingest", "--split", "--json", str(path)], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["stored"] * 3
    assert [line["source"].rsplit("#", 1)[1] for line in lines] == ["pages=1-1", "pages=3-6", "pages=8-8"]
    records = [json.loads(CliRunner().invoke(app, ["show", "--json", line["id"]], env=env).stdout) for line in lines]
    assert [r["origin"]["pages"] for r in records] == [[1], [3, 5, 6], [8]]
    assert [r["doc_type"]["label"] for r in records] == ["invoice", "contract", "letter"]


def barcode_sheet_pdf() -> bytes:
    """A scanned separator sheet: a Code 128 barcode and two words, as an image-only page."""
    sheet = Image.new("L", (2550, 3300), 255)
    barcode = zxingcpp.create_barcode("ECM-SEPARATOR", zxingcpp.BarcodeFormat.Code128)
    code = Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=6)))
    sheet.paste(code.resize((code.width, 300)), (675, 1200))
    ImageDraw.Draw(sheet).text((900, 1700), "SEPARATOR", fill=0)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PDF", resolution=300)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """invoice | blank page | contract (3 pages) | barcode sheet | letter, in one PDF."""
    path = tmp_path_factory.mktemp("batch") / "mailroom-batch.pdf"
    parts = [SAMPLES / "invoice_harrowgate_HPW-58812.pdf", need_data() / "badinput" / "blank-page.pdf",
             SAMPLES / "contract_nda_larkspur_copperfield.pdf", io.BytesIO(barcode_sheet_pdf()),
             SAMPLES / "letter_ashgrove_lease_renewal.pdf"]
    with pikepdf.new() as out:
        sources = [pikepdf.open(p) for p in parts]
        for src in sources:
            out.pages.extend(src.pages)
        out.save(path)
        for src in sources:
            src.close()
    return path


def test_ingest_split_stores_each_document_with_its_origin(batch: Path, tmp_path: Path):
    home = tmp_path / "home"
    env = {"ECM_HOME": str(home)}
    result = CliRunner().invoke(app, ["ingest", "--split", "--json", str(batch)], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["stored"] * 3
    assert [line["source"].rsplit("#", 1)[1] for line in lines] == ["pages=1-1", "pages=3-5", "pages=7-7"]
    records = [json.loads(CliRunner().invoke(app, ["show", "--json", line["id"]], env=env).stdout) for line in lines]
    assert [r["doc_type"]["label"] for r in records] == ["invoice", "contract", "letter"]
    assert [len(r["pages"]) for r in records] == [1, 3, 1]
    assert all(r["origin"]["source"] == str(batch) for r in records)
    # Each part's original is its own PDF of its pages; the batch file is kept as well.
    originals = home / "store" / "originals"
    assert sum(1 for p in originals.rglob("*") if p.is_file()) == 4
    # The same batch again: every part is a reported duplicate (parts are cut deterministically).
    again = [json.loads(x) for x in CliRunner().invoke(app, ["ingest", "--split", "--json", str(batch)], env=env).stdout.splitlines()]
    assert [line["status"] for line in again] == ["duplicate"] * 3


def test_without_split_a_batch_is_one_document(batch: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["process", "--json", str(batch)], env={"ECM_HOME": str(tmp_path)})
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["pages"] == 7

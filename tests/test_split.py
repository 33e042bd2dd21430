"""Splitting batch scans into documents: separator pages, barcode sheets, 'Page 1 of N'."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from ecm.cli import app
from ecm.document import Page, Word
from ingest.split import document_ranges, load_rules
from tests.conftest import SAMPLES, need_data

RULES = load_rules()


def page(number: int, text: str = "", barcodes: list[str] | None = None) -> Page:
    words = []
    for line_no, line in enumerate(text.splitlines()):
        words += [Word(text=t, bbox=(10 * i, 20 * line_no, 10 * i + 8, 20 * line_no + 10), line=line_no)
                  for i, t in enumerate(line.split())]
    return Page(number=number, width=600, height=800, unit="px", source="ocr", words=words, barcodes=barcodes or [])


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

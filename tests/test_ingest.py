"""Ingest: type by content, sha256, text layers, OCR with boxes, orientation, and bad input."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

import ingest
from ecm.config import Config, LimitsConfig, OcrConfig
from ecm.errors import BadInput
from ingest.reader import _render_dpi
from ingest.sniff import JPEG, PDF, PNG, TIFF, WEBP, sniff
from tests.conftest import need_data


def badinput() -> list[dict]:
    folder = need_data() / "badinput"
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "head,expected",
    [(b"%PDF-1.7\n", PDF), (b"junk\n%PDF-1.4", PDF), (b"\xff\xd8\xff\xe0", JPEG),
     (b"\x89PNG\r\n\x1a\nxxxx", PNG), (b"II*\x00", TIFF), (b"MM\x00*", TIFF),
     (b"RIFF\x10\x00\x00\x00WEBPVP8 ", WEBP)],
)
def test_sniff_by_content(head: bytes, expected: str):
    assert sniff(head) == expected


@pytest.mark.parametrize(
    "head,reason",
    [(b"", "empty"), (b"<!DOCTYPE html><html>", "HTML"), (b"PK\x03\x04", "archive"), (b"hello", "not a supported")],
)
def test_sniff_refuses_with_reason(head: bytes, reason: str):
    with pytest.raises(BadInput, match=reason):
        sniff(head)


def test_type_is_decided_by_content_not_name(tmp_path: Path):
    png = tmp_path / "scan.pdf"  # a PNG with a .pdf name
    Image.new("L", (200, 100), 255).save(png, format="PNG")
    doc, jobs = ingest.open_document(png, LimitsConfig(), OcrConfig())
    assert doc.media_type == PNG and len(jobs) == 1


def test_every_bad_input_is_handled_as_the_manifest_expects(executor):
    """Every file of shared/data/badinput: processed or quarantined with a one-line reason."""
    folder = need_data() / "badinput"
    entries = badinput()
    groups = []
    for entry in entries:
        path = folder / entry["path"]
        doc, jobs = ingest.open_document(path, Config().limits, Config().ocr)
        groups.append(((entry, path, doc), jobs))
    for (entry, path, doc), results in executor.map_groups(groups, ingest.ocr_page):
        if isinstance(results, BadInput):
            doc = doc.quarantine(str(results))
        elif doc.status == "ok":
            assert not isinstance(results, BaseException), f"{entry['path']}: {results!r}"
            doc = ingest.assemble(doc, path, results)
        expected = "quarantined" if entry["expect"] == "quarantine" else "ok"
        assert doc.status == expected, f"{entry['path']}: {doc.status} ({doc.reason})"
        if expected == "quarantined":
            assert doc.reason and "\n" not in doc.reason and "Traceback" not in doc.reason


@pytest.fixture(scope="module")
def rotated_receipt():
    return ingest.read_document(need_data() / "badinput" / "receipt-rotated-90.jpg")


def test_sideways_scan_is_turned_upright(rotated_receipt):
    page = rotated_receipt.pages[0]
    assert page.rotation in (90, 270)
    assert page.height > page.width  # a receipt is tall once upright
    words = [w for w in page.words if w.conf > 0.8 and len(w.text) > 3]
    assert len(words) > 20


def test_ocr_words_have_boxes_inside_the_page_and_a_searchable_pdf(rotated_receipt):
    page = rotated_receipt.pages[0]
    assert page.unit == "px" and page.source == "ocr"
    for w in page.words:
        x0, y0, x1, y1 = w.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert 0.0 <= w.conf <= 1.0
    with pikepdf.open(io.BytesIO(rotated_receipt.searchable_pdf)) as pdf:
        assert len(pdf.pages) == 1


def test_exif_orientation_is_honoured():
    doc = ingest.read_document(need_data() / "badinput" / "receipt-exif-orientation-6.jpg")
    page = doc.pages[0]
    assert page.height > page.width
    assert sum(w.conf > 0.8 for w in page.words) > 20


def test_multipage_tiff_reads_every_page():
    doc = ingest.read_document(need_data() / "badinput" / "receipts-multipage.tif")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert all(p.words for p in doc.pages)


def test_born_digital_pages_are_not_ocrd():
    path = need_data() / "badinput" / "xss-text-layer.pdf"
    doc, jobs = ingest.open_document(path, LimitsConfig(), OcrConfig())
    assert jobs == []
    assert doc.pages[0].source == "text" and doc.pages[0].unit == "pt"
    assert "<script>alert(1)</script>" in doc.text


def test_mixed_pdf_ocrs_only_the_page_without_text(tmp_path: Path):
    text_pdf = need_data() / "badinput" / "xss-text-layer.pdf"
    scan_pdf = need_data() / "badinput" / "jbig2.pdf"
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(text_pdf) as a, pikepdf.open(scan_pdf) as b, pikepdf.new() as out:
        out.pages.append(a.pages[0])
        out.pages.append(b.pages[0])
        out.save(mixed)
    doc, jobs = ingest.open_document(mixed, LimitsConfig(), OcrConfig())
    assert [j.number for j in jobs] == [2]
    doc = ingest.assemble(doc, mixed, [ingest.ocr_page(j) for j in jobs])
    assert [p.source for p in doc.pages] == ["text", "ocr"]
    with pikepdf.open(io.BytesIO(doc.searchable_pdf)) as pdf:
        assert len(pdf.pages) == 2


def test_same_bytes_same_sha256(tmp_path: Path):
    src = need_data() / "badinput" / "xss-text-layer.pdf"
    copy = tmp_path / "other name.pdf"
    shutil.copy(src, copy)
    assert ingest.sha256_file(src) == ingest.sha256_file(copy)


def test_limits_are_configurable(tmp_path: Path):
    path = need_data() / "badinput" / "receipts-multipage.tif"
    doc, jobs = ingest.open_document(path, LimitsConfig(max_pages=2), OcrConfig())
    assert doc.status == "quarantined" and "3 pages" in doc.reason and jobs == []
    doc, _ = ingest.open_document(path, LimitsConfig(max_file_mb=0), OcrConfig())
    assert doc.status == "quarantined" and "too large" in doc.reason


def test_render_resolution_is_capped_for_huge_pages():
    assert _render_dpi(612, 792, 300, 60_000_000) == 300
    dpi = _render_dpi(14400, 14400, 300, 60_000_000)
    assert (14400 / 72 * dpi) ** 2 <= 60_000_000


def test_fillable_form_fields_of_a_pdf_are_counted(tmp_path: Path):
    plain = need_data() / "badinput" / "xss-text-layer.pdf"
    assert ingest.open_document(plain, LimitsConfig(), OcrConfig())[0].form_fields == 0
    fillable, damaged = tmp_path / "fillable.pdf", tmp_path / "damaged.pdf"
    with pikepdf.open(plain) as pdf:
        fields = [pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String(f"name{i}")))
                  for i in range(2)]
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(fields))
        pdf.save(fillable)
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Name.Oops)  # not an array
        pdf.save(damaged)
    doc = ingest.open_document(fillable, LimitsConfig(), OcrConfig())[0]
    assert (doc.status, doc.form_fields) == ("ok", 2)
    doc = ingest.open_document(damaged, LimitsConfig(), OcrConfig())[0]
    assert (doc.status, doc.form_fields) == ("ok", 0)

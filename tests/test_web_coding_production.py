"""Production volumes: the ZIP a review platform loads as is. Every path the DAT and OPT name is
in it, the images are valid single-page Group IV TIFFs, one per Bates number, the numbers run on,
privileged documents are withheld behind slip sheets; through the web route and `ecm export`."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from typer.testing import CliRunner

from ecm.cli import app as cli_app
from ecm.document import DocType, Document, Page, Word
from store import Archive, FsBlobStore
from tests.test_web import (  # noqa: F401 - fixtures
    app, archive, fake_ingest, image_doc, index, pdf_doc, users,
)
from tests.test_web_coding_routes import _batch_id, _coding_form, _make_batch, coder, lead  # noqa: F401
from web.coding.bates import bates, bates_pages
from web.coding.loadfiles import ExportRow, parse_dat
from web.coding.production import (
    PRODUCTION_FIELDS, ProductionError, slip_sheet, write_production,
)
from web.coding.store import CodingStore, NewDoc
from ecm.db import database_path


# ----------------------------------------------------------------------------- documents


def _pdf(pages: list[list[str]]) -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("Helvetica", size=14)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 20, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _store_pdf(archive: Archive, name: str, pages: list[list[str]]) -> Document:
    data = _pdf(pages)
    sha = hashlib.sha256(data).hexdigest()
    archive.put_original(sha, data)
    records = [Page(number=i + 1, width=612, height=792, unit="pt", source="text",
                    words=[Word(text=w, bbox=(72, 72 + 20 * n, 200, 90 + 20 * n), line=n)
                           for n, line in enumerate(lines) for w in line.split()])
               for i, lines in enumerate(pages)]
    doc = Document(source=f"/scans/{name}.pdf", sha256=sha, size=len(data), media_type="application/pdf",
                   pages=records, doc_type=DocType(label="letter", confidence=0.9))
    return archive.save(doc, actor="test", action="ingest")


def _coding(privilege="Not Privileged", responsiveness="Responsive", **extra) -> dict:
    values = {"document_type": "Letter", "document_date": "2024-03-00", "title": "Lease", "author": ["Smith, John"],
              "recipients": ["Doe, Jane"], "cc": [], "privilege": privilege, "responsiveness": responsiveness,
              "issues": ["Fraud"], "hot": True}
    if privilege != "Not Privileged":
        values |= {"privilege_basis": "Advice of counsel", "privilege_description": "Letter to counsel"}
    return values | extra


def _row(doc: Document, begin: int, values: dict, prefix: str = "ABC", ext: str = ".pdf") -> ExportRow:
    pages = max(1, len(doc.pages))
    return ExportRow(doc_id=doc.id, sha256=doc.sha256, bates_begin=bates(prefix, begin),
                     bates_end=bates(prefix, begin + pages - 1), native_ext=ext, values=values)


@pytest.fixture()
def store(tmp_path: Path) -> Archive:
    return Archive(FsBlobStore(tmp_path / "store"))


@pytest.fixture()
def documents(store: Archive) -> dict[str, Document]:
    """A 3-page lease, a receipt scan (PNG), a 2-page privileged memo and a non-responsive note."""
    png = io.BytesIO()
    Image.new("L", (600, 900), 255).save(png, format="PNG", dpi=(300, 300))
    data = png.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    store.put_original(sha, data)
    receipt = store.save(Document(
        source="receipt.png", sha256=sha, size=len(data), media_type="image/png",
        pages=[Page(number=1, width=600, height=900, unit="px", dpi=300, source="ocr",
                    words=[Word(text="TOTAL", bbox=(10, 10, 80, 30)), Word(text="9.99", bbox=(90, 10, 150, 30))])],
    ), actor="test", action="ingest")
    return {
        "lease": _store_pdf(store, "lease", [["Lease agreement", "Landlord Larkspur"], ["Rent 1200 monthly"],
                                             ["Signed Tenant Quimby"]]),
        "receipt": receipt,
        "memo": _store_pdf(store, "memo", [["Privileged memo to counsel"], ["Strategy secrets"]]),
        "note": _store_pdf(store, "note", [["Lunch menu"]]),
    }


def _rows(documents) -> list[ExportRow]:
    # Bates: lease 1-3, receipt 4, memo 5-6 (privileged), note 7 (non-responsive, left out).
    return [_row(documents["lease"], 1, _coding(title="Lease agreement")),
            _row(documents["receipt"], 4, _coding(document_type="Receipt"), ext=".png"),
            _row(documents["memo"], 5, _coding(privilege="Attorney-Client", title="Memo on strategy")),
            _row(documents["note"], 7, _coding(responsiveness="Non-Responsive"))]


def _opt(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return [line.split(",") for line in text.split("\r\n")[:-1]]


def _member(path: str) -> str:
    return path.replace("\\", "/")


def check_volume(zip_path: Path, volume: str = "VOL001") -> tuple[list[dict], list[list[str]], zipfile.ZipFile]:
    """What a review platform's import would check: every path named exists, one image per
    Bates number, the OPT's page counts equal the images, valid single-page Group IV TIFFs."""
    zf = zipfile.ZipFile(zip_path)
    assert zf.testzip() is None
    names = set(zf.namelist())
    records = parse_dat(zf.read(f"{volume}/DATA/{volume}.dat"))
    opt = _opt(zf.read(f"{volume}/DATA/{volume}.opt"))
    assert list(records[0]) == list(PRODUCTION_FIELDS)
    for record in records:
        for link in ("NATIVELINK", "TEXTLINK"):
            if record[link]:
                assert record[link].startswith(f"{volume}\\") and _member(record[link]) in names, record[link]
    for key, vol, path, *_ in opt:
        assert vol == volume and _member(path) in names and _member(path).endswith(f"/{key}.tif"), path
    images = {n for n in names if "/IMAGES/" in n}
    assert images == {_member(line[2]) for line in opt}  # no image the OPT does not name
    # Per document: the OPT's page count is the number of its images and of its Bates numbers.
    starts = [i for i, line in enumerate(opt) if line[3] == "Y"]
    assert len(starts) == len(records)
    for record, start, end in zip(records, starts, [*starts[1:], len(opt)]):
        numbers = bates_pages(record["BEGBATES"], record["ENDBATES"])
        assert opt[start][0] == record["BEGBATES"] and int(opt[start][6]) == end - start == len(numbers)
        assert [line[0] for line in opt[start:end]] == numbers
        assert all(line[3] == "" and line[6] == "" for line in opt[start + 1:end])
        assert int(record["PAGECOUNT"]) == len(numbers)
    for name in images:
        with Image.open(io.BytesIO(zf.read(name))) as im:
            assert im.format == "TIFF" and getattr(im, "n_frames", 1) == 1 and im.mode == "1", name
            assert im.info["compression"] == "group4" and round(im.info["dpi"][0]) <= 300
    return records, opt, zf


# ----------------------------------------------------------------------------- the volume


def test_volume_loads_as_is(store, documents, tmp_path):
    target = tmp_path / "out" / "prod.zip"
    target.parent.mkdir()
    report = write_production(target, _rows(documents), store)
    records, opt, zf = check_volume(target)
    names = set(zf.namelist())
    # The Bates numbers run on, 1 to 6, with no gap: the non-responsive note (7) stayed home.
    assert [line[0] for line in opt] == [bates("ABC", n) for n in range(1, 7)]
    assert [r["BEGBATES"] for r in records] == ["ABC000001", "ABC000004", "ABC000005"]
    assert report.pages == 6 and report.documents == 3 and report.withheld == 1 and report.natives == 2
    assert report.left_out == {"coded Non-Responsive": [documents["note"].id]} and report.gaps == []
    assert not any("ABC000007" in n for n in names)
    lease, receipt, memo = records
    assert (lease["NATIVELINK"], lease["TEXTLINK"]) == ("VOL001\\NATIVES\\ABC000001.pdf", "VOL001\\TEXT\\ABC000001.txt")
    assert opt[0][2] == "VOL001\\IMAGES\\0001\\ABC000001.tif"
    assert zf.read("VOL001/NATIVES/ABC000001.pdf") == store.get_original(documents["lease"].sha256)
    assert zf.read("VOL001/NATIVES/ABC000004.png") == store.get_original(documents["receipt"].sha256)
    text = zf.read("VOL001/TEXT/ABC000001.txt").decode("utf-8")
    assert "Landlord Larkspur" in text and "Tenant Quimby" in text
    assert "TOTAL 9.99" in zf.read("VOL001/TEXT/ABC000004.txt").decode("utf-8")
    assert (lease["DOCDATE"], lease["AUTHOR"], lease["TITLE"], lease["SHA256"], lease["FILEEXT"]) == (
        "20240300", "Smith, John", "Lease agreement", documents["lease"].sha256, "pdf")
    # The privileged memo: slip sheets for its two numbers, no native, no text, nothing said about it.
    assert (memo["BEGBATES"], memo["ENDBATES"], memo["WITHHELD"]) == ("ABC000005", "ABC000006", "Privileged")
    assert memo["NATIVELINK"] == memo["TEXTLINK"] == memo["TITLE"] == memo["AUTHOR"] == memo["SHA256"] == ""
    assert not any(n.startswith(("VOL001/NATIVES/ABC000005", "VOL001/TEXT/ABC000005")) for n in names)
    dat = zf.read("VOL001/DATA/VOL001.dat")
    assert b"Strategy" not in dat and b"Memo on strategy" not in dat and b"Advice of counsel" not in dat
    # The team's subjective coding never leaves.
    assert not {"ISSUES", "RESPONSIVENESS", "PRIVILEGE", "HOT"} & set(lease) and b"Fraud" not in dat
    # A rendered page has ink where the text is; the slip sheet is not the memo's page.
    with Image.open(io.BytesIO(zf.read("VOL001/IMAGES/0001/ABC000001.tif"))) as page:
        assert page.size == (2550, 3300) and 0 < page.convert("L").histogram()[0] < 0.05 * 2550 * 3300
    expected = slip_sheet("ABC000005", ["Document withheld — privileged", "Privilege log: ABC000005 - ABC000006"])
    with Image.open(io.BytesIO(zf.read("VOL001/IMAGES/0001/ABC000005.tif"))) as sheet:
        assert sheet.tobytes() == expected.tobytes()
    assert not (target.parent / "prod.zip.part").exists() and report.size == target.stat().st_size


def test_gaps_are_reported_and_prefixes_not_mixed(store, documents, tmp_path):
    rows = _rows(documents)
    report = write_production(tmp_path / "gap.zip", [rows[0], rows[2]], store, not_coded=["f" * 16])
    assert report.gaps == ["ABC000004"] and report.left_out == {"not coded": ["f" * 16]}
    check_volume(tmp_path / "gap.zip")
    mixed = [rows[0], _row(documents["receipt"], 9, _coding(), prefix="XYZ", ext=".png")]
    with pytest.raises(ProductionError, match="several prefixes"):
        write_production(tmp_path / "mixed.zip", mixed, store)
    with pytest.raises(ProductionError, match="overlap"):
        write_production(tmp_path / "overlap.zip", [rows[0], _row(documents["receipt"], 3, _coding())], store)
    assert not list(tmp_path.glob("mixed.zip*")) and not list(tmp_path.glob("overlap.zip*"))


def test_refusals_say_what_to_do(store, documents, tmp_path):
    rows = _rows(documents)
    with pytest.raises(ProductionError, match="Nothing to produce.*Code the documents"):
        write_production(tmp_path / "none.zip", [rows[3]], store)
    with pytest.raises(ProductionError, match="volume name"):
        write_production(tmp_path / "v.zip", rows, store, volume="../x")
    # A record whose page count no longer matches its Bates range: refused, not mis-numbered.
    short = ExportRow(**{**rows[0].__dict__, "bates_end": "ABC000002"})
    with pytest.raises(ProductionError, match="3 page\\(s\\) but 2 Bates"):
        write_production(tmp_path / "short.zip", [short], store)
    assert not list(tmp_path.glob("*.zip*"))


# ----------------------------------------------------------------------------- the web route


def test_production_route(app, lead, coder, pdf_doc, image_doc, archive, tmp_path):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, image_doc.id, share="0", prefix="PRD"))
    assert lead.get(f"/coding/batches/{batch_id}/production").status_code == 400  # nothing coded yet
    coder.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(coder, author="Smith, John"))
    coder.post(f"/coding/batches/{batch_id}/doc/2", data=_coding_form(
        coder, privilege="Work Product", privilege_basis="Prepared for litigation",
        privilege_description="Notes"))
    assert coder.get(f"/coding/batches/{batch_id}/production").status_code == 403  # leads only
    r = lead.get(f"/coding/batches/{batch_id}/production?volume=../../x")
    assert r.status_code == 400 and "volume name" in r.text
    r = lead.get(f"/coding/batches/{batch_id}/production?volume=PROD01")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert f"batch-{batch_id}-PROD01.zip" in r.headers["content-disposition"]
    (tmp_path / "got.zip").write_bytes(r.content)
    records, opt, zf = check_volume(tmp_path / "got.zip", "PROD01")
    assert [(x["BEGBATES"], x["WITHHELD"]) for x in records] == [("PRD000001", ""), ("PRD000002", "Privileged")]
    assert "ACME" in zf.read("PROD01/TEXT/PRD000001.txt").decode("utf-8")
    assert not list((tmp_path / "tmp").iterdir())  # the temporary ZIP went once sent
    [event] = [e for e in archive.events() if e.action == "export"]
    assert event.actor == "user:admin" and event.detail["what"] == "coding-production"
    assert (event.detail["documents"], event.detail["pages"], event.detail["withheld"]) == (2, 2, 1)


# ----------------------------------------------------------------------------- the command line


def test_ecm_export_production(tmp_path):
    home = tmp_path / "home"
    archive = Archive(FsBlobStore(home / "store"))
    docs = [_store_pdf(archive, "one", [["First page words"], ["Second page"]]),
            _store_pdf(archive, "two", [["Another letter"]])]
    codings = CodingStore(database_path(home))
    batch = codings.create_batch(name="b", created_by="admin", coder="ann", qc_coder=None, qc_share=0, seed=1,
                                 bates_prefix="CLI", source="test", qc_docs={},
                                 docs=[NewDoc(d.id, d.source, d.sha256, ".pdf", len(d.pages)) for d in docs])
    for doc in docs:
        codings.save_coding(batch.id, doc.id, 2, "ann", "code", _coding())
    runner = CliRunner()

    def ecm(*args):
        return runner.invoke(cli_app, ["--home", str(home), "export", *args], env={"ECM_HOME": str(home)})

    result = ecm("--production", str(tmp_path / "vol.zip"), "--batch", str(batch.id))
    assert result.exit_code == 0, result.output
    assert "2 document(s), 3 page image(s)" in result.output
    records, opt, zf = check_volume(tmp_path / "vol.zip")
    assert [line[0] for line in opt] == ["CLI000001", "CLI000002", "CLI000003"]
    assert "First page words" in zf.read("VOL001/TEXT/CLI000001.txt").decode("utf-8")
    events = [e for e in archive.events() if e.action == "export"]
    assert events[-1].actor == "cli" and (events[-1].detail["documents"], events[-1].detail["pages"]) == (2, 3)
    # Every coded document (no --batch) gives the same volume here.
    assert ecm("--production", str(tmp_path / "all.zip")).exit_code == 0
    assert zipfile.ZipFile(tmp_path / "all.zip").read("VOL001/DATA/VOL001.opt") == zf.read("VOL001/DATA/VOL001.opt")
    # Mistakes: one line, an exit code, no traceback.
    result = ecm("--production", str(tmp_path / "x.zip"), "--batch", "99")
    assert result.exit_code == 3 and "no coding batch 99" in result.output and "Traceback" not in result.output
    result = ecm("--batch", "1")
    assert result.exit_code == 2 and "--production" in result.output
    assert not (tmp_path / "x.zip").exists()

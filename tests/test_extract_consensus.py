"""extract.consensus: the archive's majority reading of a vendor's name and address."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from fpdf import FPDF
from typer.testing import CliRunner

from ecm.cli import app
from extract import Calibration, extract, raw_readings
from extract.consensus import Readings, ReadingLog
from test_classify_synthetic import document, page_from_rows


def _readings(*texts: str, name: str = "vendor_name") -> Readings:
    readings = Readings()
    for text in texts:
        readings.add(name, text)
    return readings


def test_majority_of_alike_readings_replaces_a_misread_word():
    readings = _readings("KEDAI MAJU JAYA TRADING", "KEDAI MAJU JAVA TRADING", "KEDAI MAJU JAYA TRADlNG")
    agreed = readings.consensus("vendor_name", "KEDAl MAJU JAYA TRADING")
    assert agreed is not None and agreed.value == "KEDAI MAJU JAYA TRADING"
    assert agreed.support == 4 and agreed.agreement == 0.25  # only one of the four read it all right


def test_other_vendors_and_lone_readings_are_left_alone():
    readings = _readings("KEDAI MAJU JAYA TRADING", "KEDAI MAJU JAYA TRADING", "NORTHWIND SUPPLIES LTD")
    assert readings.consensus("vendor_name", "SYARIKAT PERNIAGAAN GIN KEE") is None
    assert readings.consensus("vendor_address", "KEDAI MAJU JAYA TRADING") is None  # another field
    assert Readings().consensus("vendor_name", "KEDAI MAJU JAYA TRADING") is None


def test_a_tie_goes_to_the_word_the_archive_reads_elsewhere():
    # One other reading of this shop: "SON" against "SDN" is one vote each; "SDN" is in other
    # shops' names, "SON" in none, so "SDN" wins. A word no other shop has keeps the new reading.
    readings = _readings("MAJU JAYA SDN BHD", "ALPHA SDN BHD", "BETA SDN BHD", "KEDAI RIANG SON BHD")
    assert readings.consensus("vendor_name", "KEDAI RlANG SDN BHD").value == "KEDAI RlANG SDN BHD"
    assert readings.consensus("vendor_name", "KEDAI RIANG SDN BHD").value == "KEDAI RIANG SDN BHD"
    lone = _readings("KEDAI RIANG SDN BHD")
    assert lone.consensus("vendor_name", "KEDAI RlANG SDN BHD").value == "KEDAI RlANG SDN BHD"


def test_another_branch_is_not_a_misreading():
    # Three readings of the chain's other branch: a majority with other words, not other letters.
    other = "LOT P.T. 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR 1214-JINJANG UTARA"
    readings = _readings(other, other, other, name="vendor_address")
    mine = "LOT P.T. 2811, JALAN ANGSA, TAMAN BERKELEY 41150 KLANG, SELANGOR 1237-TMN INDAH PERDANA"
    assert readings.consensus("vendor_address", mine) is None


def test_readings_of_another_word_count_do_not_outvote_the_majority():
    readings = _readings("JALAN BESAR 12, 45600 BATANG", "JALAN BESAR 12, 45600 BATANG", "JALANBESAR 12, 45600 BATANG")
    assert readings.consensus("vendor_name", "JALAN BESAR 12, 4560O BATANG").value == "JALAN BESAR 12, 45600 BATANG"


def test_a_word_ocr_was_unsure_of_is_spelled_as_the_archive_reads_it_often():
    readings = _readings("NO 1, JALAN MAWAR, 41150 KLANG, SELANGOR", "LOT 9, JALAN RAJA, SHAH ALAM, SELANGOR",
                         "12 JALAN TIMUR, SUBANG, SELANGOR", name="vendor_address")
    text = "NO 7, JALAN BAYAM, 45000 KUALA SELANGOR, SELAMGOR."
    assert readings.spelled("vendor_address", text, {"SELAMGOR"}) == "NO 7, JALAN BAYAM, 45000 KUALA SELANGOR, SELANGOR."
    assert readings.spelled("vendor_address", "Kuala Selamgor", {"SELAMGOR"}) == "Kuala Selangor"  # case kept
    # Words glued by punctuation are words of their own ("SHAH AIAM.SEL").
    assert readings.spelled("vendor_address", "40000 SHAH AIAM.SELAMGOR", {"SELAMGOR"}) == "40000 SHAH AIAM.SELANGOR"
    # A word OCR was sure of stays: a real street may be one letter from a common word.
    assert readings.spelled("vendor_address", text, set()) == text
    assert readings.spelled("vendor_name", text, {"SELAMGOR"}) == text  # names are another vocabulary
    # Read by fewer than three readings: not yet the archive's spelling ("MAWAR" once).
    assert readings.spelled("vendor_address", "JALAN MAWAN", {"MAWAN"}) == "JALAN MAWAN"


def test_a_word_the_archive_reads_or_two_near_words_leave_a_reading_alone():
    readings = _readings(*(["JALAN RAJA 1, SHAH ALAM"] * 3 + ["JALAN RAYA 2, SHAH ALAM"] * 3
                           + ["JALAN ALAM 3, KLANG"]), name="vendor_address")
    # "RAJA" and "RAYA" are both read often: which one "RAMA" is cannot be told.
    assert readings.spelled("vendor_address", "JALAN RAMA 4", {"RAMA"}) == "JALAN RAMA 4"
    # "ALAM" is read (once) by the archive itself: never respelled as a commoner neighbour.
    assert readings.spelled("vendor_address", "JALAN ALAM 5", {"ALAM"}) == "JALAN ALAM 5"
    # Three-letter words change a letter, never lose one ("JLN" from "JIN"; "SHA" stays).
    short = _readings(*(["JLN RAJA, SHAH ALAM"] * 3), name="vendor_address")
    assert short.spelled("vendor_address", "JIN RAJA", {"JIN"}) == "JLN RAJA"
    assert short.spelled("vendor_address", "SHA RAJA", {"SHA"}) == "SHA RAJA"


def test_digits_read_for_letters_are_spelled_when_the_archive_reads_the_word():
    readings = _readings(*(["LOT 5, JALAN RAJA"] * 3), name="vendor_address")
    assert readings.spelled("vendor_address", "10T 7, JALAN RAJA", {"10T"}) == "LOT 7, JALAN RAJA"
    assert readings.spelled("vendor_address", "10T 7, JALAN RAJA", set()) == "10T 7, JALAN RAJA"
    assert readings.spelled("vendor_address", "J4LAN RAJA", {"J4LAN"}) == "J4LAN RAJA"  # 4 is no letter's look-alike


RECEIPT = [
    [("KEDAI MAJU JAVA TRADING", 40)],
    [("NO 12 JALAN MERANTI 3,", 40)],
    [("40400 SHAH ALAM", 40)],
    [("DATE: 05/06/2018", 40)],
    [("TOTAL", 40), ("RM 5.00", 200)],
]


def test_extract_takes_the_agreed_spelling_and_keeps_what_was_read():
    page = page_from_rows(RECEIPT, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    readings = _readings("KEDAI MAJU JAYA TRADING", "KEDAI MAJU JAYA TRADING")
    doc = extract(document([page], "receipt"), calibration=Calibration.identity(), readings=readings)
    name = doc.fields["vendor_name"]
    assert (name.value, name.source, name.read_as) == ("KEDAI MAJU JAYA TRADING", "extract.consensus",
                                                       "KEDAI MAJU JAVA TRADING")
    # The archive learns what was read, not what was agreed (readings stay independent).
    assert raw_readings(doc)["vendor_name"] == "KEDAI MAJU JAVA TRADING"
    plain = extract(document([page], "receipt"), calibration=Calibration.identity())
    assert plain.fields["vendor_name"].value == "KEDAI MAJU JAVA TRADING" and plain.fields["vendor_name"].read_as is None


def _misread(rows, word: str, as_text: str, conf: float):
    page = page_from_rows(rows, unit="px", width=300, height=600, line_gap=20, conf=0.9)
    return page.model_copy(update={"words": [w.model_copy(update={"text": as_text, "conf": conf}) if w.text == word else w
                                             for w in page.words]})


def test_extract_spells_an_unsure_word_and_keeps_what_was_read():
    # Other shops on streets named MERANTI: no reading alike to this address as a whole.
    readings = _readings("LOT 5 JALAN MERANTI, TAMAN SRI MUDA, 40400 SHAH ALAM, SELANGOR DARUL EHSAN",
                         "KEDAI 8, PERSIARAN MERANTI, 41200 KLANG", "MERANTI PLAZA UNIT 3-1, 47100 PUCHONG",
                         name="vendor_address")
    unsure = _misread(RECEIPT, "MERANTI", "MERANTL", 0.6)
    address = extract(document([unsure], "receipt"), calibration=Calibration.identity(),
                      readings=readings).fields["vendor_address"]
    assert address.value == "NO 12 JALAN MERANTI 3, 40400 SHAH ALAM" and address.source != "extract.consensus"
    assert address.read_as == "NO 12 JALAN MERANTL 3, 40400 SHAH ALAM"
    sure = _misread(RECEIPT, "MERANTI", "MERANTL", 0.9)
    address = extract(document([sure], "receipt"), calibration=Calibration.identity(),
                      readings=readings).fields["vendor_address"]
    assert address.value == "NO 12 JALAN MERANTL 3, 40400 SHAH ALAM" and address.read_as is None


def _append_many(path: str, worker: int) -> None:
    log = ReadingLog(Path(path))
    for i in range(200):
        log.append(f"{worker}-{i}", {"vendor_name": f"VENDOR {worker} NUMBER {i} " + "X" * 150})


def test_reading_log_keeps_every_line_from_parallel_writers_and_skips_a_cut_line(tmp_path: Path):
    path = tmp_path / "models" / "readings.jsonl"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.starmap(_append_many, [(str(path), w) for w in range(4)])
    lines = path.read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(line)["vendor_name"].startswith("VENDOR") for line in lines)
    with path.open("a") as fh:
        fh.write('{"id": "cut", "vendor_na')  # a crash in the middle of a line
    assert len(ReadingLog(path).load()) == 800
    assert len(ReadingLog(tmp_path / "none.jsonl").load()) == 0


def _invoice(path: Path, vendor: str, number: str) -> Path:
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, vendor, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in ("14 Quarry Lane, Leeds LS2 7QT", "", "TAX INVOICE", f"Invoice No: {number}",
                 "Invoice Date: 12 July 2024", "", "Printing services 10 units at 12.50 each   125.00",
                 "Subtotal 125.00", "VAT 20% 25.00", "Total due: 150.00 GBP"):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_ingest_logs_readings_and_later_documents_are_read_by_the_majority(tmp_path: Path):
    env = {"ECM_HOME": str(tmp_path / "home")}
    right = _invoice(tmp_path / "a.pdf", "Greenleaf Market Trading", "GM-1001")
    slip_a = _invoice(tmp_path / "b.pdf", "Greenleaf Markft Trading", "GM-1002")
    result = CliRunner().invoke(app, ["ingest", "--json", str(right), str(slip_a)], env=env)
    assert result.exit_code == 0, result.output
    log = [json.loads(line) for line in (tmp_path / "home" / "models" / "readings.jsonl").read_text().splitlines()]
    assert [row["vendor_name"] for row in log] == ["Greenleaf Market Trading", "Greenleaf Markft Trading"]
    assert {row["id"] for row in log} == {json.loads(line)["id"] for line in result.stdout.splitlines()}

    slip_b = _invoice(tmp_path / "c.pdf", "Greenlcaf Market Trading", "GM-1003")
    result = CliRunner().invoke(app, ["process", "--json", str(slip_b)], env=env)
    name = json.loads(result.stdout.splitlines()[0])["fields"]["vendor_name"]
    assert name["value"] == "Greenleaf Market Trading"
    # ``process`` stores nothing, so it logs nothing.
    assert len((tmp_path / "home" / "models" / "readings.jsonl").read_text().splitlines()) == 2

    # The readings are derived from the store: ``ecm reindex`` writes them again from the records.
    log = tmp_path / "home" / "models" / "readings.jsonl"
    log.write_text("")
    assert CliRunner().invoke(app, ["reindex"], env=env).exit_code == 0
    assert sorted(json.loads(line)["vendor_name"] for line in log.read_text().splitlines()) == [
        "Greenleaf Market Trading", "Greenleaf Markft Trading"]


def test_reading_log_reads_only_what_was_appended_since_and_notices_a_rewrite(tmp_path: Path, monkeypatch):
    path = tmp_path / "readings.jsonl"
    log = ReadingLog(path)
    log.append("a", {"vendor_name": "ALPHA TRADING"})
    assert log.load().counts["vendor_name"] == {"ALPHA TRADING": 1}
    with path.open("a") as fh:
        fh.write('{"id": "b", "vendor_name": "BETA TRADING"}\n{"id": "c", "vendor_na')  # c: still being written
    mine = log.load()
    assert mine.counts["vendor_name"] == {"ALPHA TRADING": 1, "BETA TRADING": 1}
    mine.add("vendor_name", "THIS RUN ONLY")  # a copy: the next load does not see it
    with path.open("a") as fh:
        fh.write('me": "GAMMA TRADING"}\n')
    assert log.load().counts["vendor_name"] == {"ALPHA TRADING": 1, "BETA TRADING": 1, "GAMMA TRADING": 1}
    path.write_text('{"id": "d", "vendor_name": "DELTA TRADING"}\n')  # rewritten (ecm reindex): read afresh
    assert log.load().counts["vendor_name"] == {"DELTA TRADING": 1}
    # A huge log: only its newest part is read, from a whole line on.
    monkeypatch.setattr("extract.consensus.MAX_LOG_BYTES", 120)
    big = ReadingLog(tmp_path / "big.jsonl")
    for i in range(20):
        big.append(str(i), {"vendor_name": f"VENDOR NUMBER {i:02d}"})
    assert set(big.load().counts["vendor_name"]) == {"VENDOR NUMBER 18", "VENDOR NUMBER 19"}


def test_readings_keep_the_newest_distinct_spellings(monkeypatch):
    monkeypatch.setattr("extract.consensus.MAX_READINGS", 4)
    readings = _readings("SHOP NUMBER 0", "SHOP NUMBER 1", "SHOP NUMBER 2", "OLD KEDAI, 1", "old kedai 2")
    assert set(readings.vocab["vendor_name"]) == {"SHOP", "NUMBER"}  # read by three readings
    readings.add("vendor_name", "OLD KEDAI 3")  # six distinct spellings: more than 4 * 5/4
    assert list(readings.counts["vendor_name"]) == ["SHOP NUMBER 2", "OLD KEDAI, 1", "old kedai 2", "OLD KEDAI 3"]
    assert readings.words["vendor_name"]["SHOP"] == 1 and readings.words["vendor_name"]["KEDAI"] == 3
    assert set(readings.vocab["vendor_name"]) == {"OLD", "KEDAI"}  # "KEDAI," and "kedai" count as KEDAI

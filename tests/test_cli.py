"""The command-line contract, end to end on the embedded default (real OCR, store and index)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ecm.cli import app
from tests.conftest import need_data, schema

runner = CliRunner()


def ecm(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"ECM_HOME": str(home)})


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """A small mixed batch: born-digital PDF, a scanned receipt, a byte-identical copy, bad files."""
    data = need_data()
    folder = tmp_path_factory.mktemp("inbox")
    bad = data / "badinput"
    shutil.copy(bad / "xss-text-layer.pdf", folder / "a-xss.pdf")
    shutil.copy(bad / "duplicate of xss-text-layer.pdf", folder / "b-copy.pdf")
    shutil.copy(bad / "zero-byte.pdf", folder / "c-empty.pdf")
    shutil.copy(bad / "html-page.pdf", folder / "d-html.pdf")
    manifest = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    receipt = next(e for e in manifest if e["doc_type"] == "receipt")
    shutil.copy(data / receipt["path"], folder / "e-receipt.jpg")
    return folder


@pytest.fixture(scope="module")
def home(inbox: Path, tmp_path_factory) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("home")
    result = ecm(home, "ingest", str(inbox), "--json")
    assert result.exit_code == 0, result.output
    return home, json_lines(result.stdout)


def test_process_json_follows_the_contract(inbox: Path, tmp_path: Path):
    result = ecm(tmp_path, "process", "--json", str(inbox))
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    assert len(lines) == 5
    for line in lines:
        jsonschema.validate(line, schema("process"))
    by_name = {Path(line["source"]).name: line for line in lines}
    assert by_name["c-empty.pdf"]["status"] == "quarantined" and "empty" in by_name["c-empty.pdf"]["reason"]
    assert by_name["d-html.pdf"]["status"] == "quarantined"
    assert by_name["e-receipt.jpg"]["status"] == "ok" and by_name["e-receipt.jpg"]["pages"] == 1
    assert not (tmp_path / "store").exists()  # process stores nothing


def test_ingest_stores_reports_duplicates_and_quarantines(home):
    _, lines = home
    for line in lines:
        jsonschema.validate(line, schema("ingest"))
    statuses = {Path(line["source"]).name: line["status"] for line in lines}
    assert statuses == {"a-xss.pdf": "stored", "b-copy.pdf": "duplicate", "c-empty.pdf": "quarantined",
                        "d-html.pdf": "quarantined", "e-receipt.jpg": "stored"}
    stored = [line for line in lines if line["status"] == "stored"]
    assert all(line["id"] == line["sha256"][:16] for line in stored)


def test_reingest_is_a_reported_no_op(home, inbox: Path):
    root, first = home
    result = ecm(root, "ingest", "--json", str(inbox / "a-xss.pdf"), str(inbox / "e-receipt.jpg"))
    lines = json_lines(result.stdout)
    assert [line["status"] for line in lines] == ["duplicate", "duplicate"]
    assert "already stored" in lines[0]["reason"]
    versions = list((root / "store" / "docs" / lines[0]["id"] / "record").iterdir())
    assert len(versions) == 1


def test_search_finds_and_escapes(home):
    root, _ = home
    result = ecm(root, "search", "--json", "ACME supplies")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    jsonschema.validate(out, schema("search"))
    assert out["total"] == 1
    hit = out["hits"][0]
    assert hit["source"].endswith("a-xss.pdf")
    assert "<mark>" in hit["snippet"]
    assert "<script>" not in hit["snippet"]


def test_search_finds_ocr_text_of_a_scan(home):
    root, lines = home
    receipt = next(line for line in lines if line["source"].endswith("e-receipt.jpg"))
    show = json.loads(ecm(root, "show", "--json", receipt["id"]).stdout)
    words = [w["text"] for p in show["pages"] for w in p["words"] if w["conf"] > 0.9 and w["text"].isalpha() and len(w["text"]) > 4]
    assert words, "the receipt was OCR'd"
    out = json.loads(ecm(root, "search", "--json", words[0]).stdout)
    assert receipt["id"] in [h["id"] for h in out["hits"]]


def test_bad_query_is_a_usage_error_without_traceback(home):
    root, _ = home
    result = ecm(root, "search", '"unbalanced')
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_show_and_audit(home):
    root, lines = home
    doc_id = next(line["id"] for line in lines if line["status"] == "stored")
    shown = ecm(root, "show", "--json", doc_id)
    assert shown.exit_code == 0
    record = json.loads(shown.stdout)
    assert record["id"] == doc_id and record["version"] == 1 and record["pages"]
    audit = json_lines(ecm(root, "audit", "--json", "--id", doc_id).stdout)
    actions = [e["action"] for e in audit]
    assert actions[0] == "ingest" and actions[-1] == "view"
    assert set(actions) <= {"ingest", "duplicate", "view"}
    quarantined = json_lines(ecm(root, "audit", "--json", "--action", "quarantine").stdout)
    assert len(quarantined) == 2 and all(e["detail"]["reason"] for e in quarantined)


def test_unknown_id_exits_3(home):
    root, _ = home
    result = ecm(root, "show", "0000000000000000")
    assert result.exit_code == 3 and "no document" in result.output


def test_reindex_rebuilds_from_the_store_alone(home):
    root, _ = home
    before = json.loads(ecm(root, "search", "--json", "ACME").stdout)
    shutil.rmtree(root / "index")
    assert ecm(root, "reindex").exit_code == 0
    after = json.loads(ecm(root, "search", "--json", "ACME").stdout)
    assert [h["id"] for h in after["hits"]] == [h["id"] for h in before["hits"]] and after["total"] == 1


def test_export_csv_has_one_row_per_document(home, tmp_path: Path):
    root, lines = home
    out = tmp_path / "records.csv"
    assert ecm(root, "export", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(out.open()))
    assert sorted(r["id"] for r in rows) == sorted(line["id"] for line in lines if line["status"] == "stored")


@pytest.mark.parametrize("command", ["process", "ingest", "search", "show", "reindex", "audit", "export", "serve"])
def test_every_command_explains_itself(command: str, tmp_path: Path):
    result = ecm(tmp_path, command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 200

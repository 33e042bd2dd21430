"""`ecm tag`, `ecm review` from the index, and `ecm reindex` rebuilding tags and review state from
the store alone (synthetic records: no OCR)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecm.cli import app
from ecm.document import Acceptance, DocType, Document, FieldValue
from search import EmbeddedIndex
from store import Archive, FsBlobStore

runner = CliRunner()


def ecm(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"ECM_HOME": str(home)})


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _receipt(n: int, confidence: float, **update) -> Document:
    fields = {name: FieldValue(value=value, confidence=confidence) for name, value in
              (("vendor_name", f"Shop {n}"), ("invoice_date", "2024-01-02"), ("total_amount", "10.00"))}
    return Document(source=f"/in/receipt-{n}.pdf", sha256=f"{n:x}" * 64, doc_type=DocType(label="receipt", confidence=0.99),
                    fields=fields).model_copy(update=update)


@pytest.fixture()
def home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store and its index as `ecm ingest` leaves them: one document of each review state."""
    archive = Archive(FsBlobStore(tmp_path / "store"))
    docs = {
        "auto": archive.save(_receipt(1, 0.99), actor="test", action="ingest"),
        "low": archive.save(_receipt(2, 0.30), actor="test", action="ingest"),
        "accepted": archive.save(_receipt(3, 0.30, accepted=Acceptance(by="user:rita", version=1)),
                                 actor="test", action="ingest"),
    }
    EmbeddedIndex(tmp_path / "index").add(docs.values())
    return tmp_path, {state: doc.id for state, doc in docs.items()}


def _ids(home: Path, query: str) -> set[str]:
    result = ecm(home, "search", query, "--json")
    assert result.exit_code == 0, result.output
    return {hit["id"] for hit in json.loads(result.stdout)["hits"]}


def test_tag_adds_removes_and_prints(home):
    root, ids = home
    result = ecm(root, "tag", ids["low"], "--add", "Urgent", "--add", "audit-2026", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": ids["low"], "version": 2, "tags": ["audit-2026", "urgent"],
                                         "added": ["audit-2026", "urgent"], "removed": []}
    assert _ids(root, "tag:urgent") == {ids["low"]}
    listed = ecm(root, "tag", ids["low"])
    assert listed.exit_code == 0 and listed.stdout.splitlines() == ["audit-2026", "urgent"]
    removed = ecm(root, "tag", ids["low"], "--remove", "urgent")
    assert removed.exit_code == 0 and removed.stdout.splitlines() == ["audit-2026"]
    assert _ids(root, "tag:urgent") == set()
    audit = json_lines(ecm(root, "audit", "--id", ids["low"], "--action", "tag", "--json").stdout)
    assert [(e["actor"], e["detail"]["added"], e["detail"]["removed"]) for e in audit] == [
        ("cli", ["audit-2026", "urgent"], []), ("cli", [], ["urgent"])]


def test_bad_tags_and_unknown_ids_are_clear_errors(home):
    root, ids = home
    bad = ecm(root, "tag", ids["low"], "--add", "two words")
    assert bad.exit_code == 2 and "use - instead of spaces" in bad.output and "Traceback" not in bad.output
    assert ecm(root, "tag", "0000000000000000", "--add", "x").exit_code == 3
    assert json.loads(ecm(root, "tag", ids["low"], "--json").stdout)["version"] == 1  # nothing was written


def test_review_lists_what_the_index_holds_as_needing_review(home):
    root, ids = home
    result = ecm(root, "review", "--json")
    assert result.exit_code == 0, result.output
    (line,) = json_lines(result.stdout)
    assert line["id"] == ids["low"] and line["doc_type"] == "receipt" and line["source"] == "/in/receipt-2.pdf"
    assert any(reason.startswith("total_amount '10.00': confidence 0.30") for reason in line["reasons"])
    plain = ecm(root, "review").stdout.splitlines()
    assert plain[0] == f"{ids['low']}  receipt   /in/receipt-2.pdf" and plain[1].startswith("    ")
    # What-if at another threshold judges the records themselves (accepted ones still left out).
    assert [x["id"] for x in json_lines(ecm(root, "review", "--threshold", "0.2", "--json").stdout)] == []
    assert {x["id"] for x in json_lines(ecm(root, "review", "--threshold", "0.995", "--json").stdout)} == {
        ids["low"], ids["auto"]}


def test_reindex_rebuilds_tags_and_review_state_from_the_store(home):
    root, ids = home
    assert ecm(root, "tag", ids["auto"], "--add", "disputed").exit_code == 0
    before = {state: _ids(root, f"review:{state}") for state in ("needs-review", "accepted", "auto")}
    assert before == {"needs-review": {ids["low"]}, "accepted": {ids["accepted"]}, "auto": {ids["auto"]}}
    shutil.rmtree(root / "index")
    assert ecm(root, "reindex").exit_code == 0
    assert _ids(root, "tag:disputed") == {ids["auto"]}
    assert {state: _ids(root, f"review:{state}") for state in before} == before


def test_tag_explains_itself(tmp_path):
    result = ecm(tmp_path, "tag", "--help")
    assert result.exit_code == 0 and "--add" in result.output and "--remove" in result.output

"""The hot folder (`ecm watch`): files dropped are ingested once, moved to done/ or
quarantine/ (with a reason), searchable; growing files wait; a second run does nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import ecm.hotfolder as hotfolder
from ecm.backends import open_archive, open_index
from ecm.config import load_config
from ecm.errors import StoreError
from ecm.executor import LocalExecutor
from ecm.cli import app
from ecm.hotfolder import HotFolder, stop_on_signals, watch
from tests.conftest import SAMPLES, schema

INVOICE = SAMPLES / "invoice_harrowgate_HPW-58812.pdf"
OTHER_INVOICE = SAMPLES / "invoice_quillfeather_QS-2024-0173.pdf"
LETTER = SAMPLES / "letter_ashgrove_lease_renewal.pdf"


def run_once(folder: Path, home: Path, *extra: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(app, ["watch", str(folder), "--once", "--interval", "0", "--json", *extra],
                                env={"ECM_HOME": str(home)})
    assert "Traceback" not in result.output
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_dropped_files_are_ingested_once_moved_and_searchable(tmp_path: Path):
    drop, home = tmp_path / "scans", tmp_path / "home"
    (drop / "tuesday").mkdir(parents=True)
    shutil.copy(INVOICE, drop / "invoice.pdf")
    shutil.copy(LETTER, drop / "tuesday" / "letter.pdf")
    shutil.copy(INVOICE, drop / "tuesday" / "invoice-again.pdf")  # the same bytes under another name
    (drop / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF")
    (drop / "scan0007.pdf.part").write_bytes(b"still being written")
    (drop / ".DS_Store").write_bytes(b"hidden")

    code, lines = run_once(drop, home)
    assert code == 0
    for line in lines:
        jsonschema.validate(line, schema("ingest"))
    status = {Path(line["source"]).name: line["status"] for line in lines}
    assert status == {"invoice.pdf": "stored", "letter.pdf": "stored", "invoice-again.pdf": "duplicate",
                      "broken.pdf": "quarantined"}
    assert files_under(drop) == {
        "scan0007.pdf.part", ".DS_Store",  # still being written, hidden: left alone
        ".ecm/done/invoice.pdf", ".ecm/done/tuesday/letter.pdf", ".ecm/done/tuesday/invoice-again.pdf",
        ".ecm/quarantine/broken.pdf", ".ecm/quarantine/broken.pdf.reason.txt"}
    reason = (drop / ".ecm" / "quarantine" / "broken.pdf.reason.txt").read_text()
    assert reason.splitlines()[0] == next(line["reason"] for line in lines if line["status"] == "quarantined")
    assert "corrupt" in reason or "cannot" in reason

    found = json.loads(CliRunner().invoke(app, ["search", "--json", "HPW-58812"], env={"ECM_HOME": str(home)}).stdout)
    assert [Path(hit["source"]).name for hit in found["hits"]] == ["invoice.pdf"]

    # A second run finds nothing to do: nothing is read twice.
    assert run_once(drop, home) == (0, [])
    # A scanner that reuses a name: the new file is kept beside the old one, not over it.
    shutil.copy(OTHER_INVOICE, drop / "invoice.pdf")
    code, lines = run_once(drop, home)
    assert [line["status"] for line in lines] == ["stored"]
    assert (drop / ".ecm" / "done" / "invoice-2.pdf").read_bytes() == OTHER_INVOICE.read_bytes()
    assert (drop / ".ecm" / "done" / "invoice.pdf").read_bytes() == INVOICE.read_bytes()


class Scanner(threading.Event):
    """Stands in for time passing between the watcher's looks: each wait runs the next step
    (a scanner writing more of a file); when the steps run out, the watch is stopped."""

    def __init__(self, *steps):
        super().__init__()
        self.steps = list(steps)

    def wait(self, timeout: float | None = None) -> bool:
        if self.steps:
            self.steps.pop(0)()
        else:
            self.set()
        return self.is_set()


@pytest.fixture
def stack(tmp_path: Path):
    config = load_config(home=tmp_path / "home", env={})
    with LocalExecutor(workers=1) as executor:
        yield config, executor, open_archive(config), open_index(config)


def test_a_growing_file_is_read_once_it_is_complete(tmp_path: Path, stack):
    drop = tmp_path / "scans"
    drop.mkdir()
    data = LETTER.read_bytes()
    growing = drop / "batch.pdf"
    growing.write_bytes(data[: len(data) // 2])  # the scanner has written half

    def write_the_rest():
        with growing.open("ab") as fh:
            fh.write(data[len(data) // 2:])

    seen_at_each_look = []
    folder = HotFolder(drop)
    original_ready = folder.ready
    folder.ready = lambda: seen_at_each_look.append(original_ready()) or seen_at_each_look[-1]
    stop = Scanner(write_the_rest, lambda: None, lambda: None)
    events = list(watch(folder, *stack, stop, interval=0))
    assert seen_at_each_look == [[], [], [growing], []]  # changed at the 2nd look, unchanged at the 3rd
    [outcome] = [e.outcome for e in events if e.outcome is not None]
    assert outcome.status == "stored" and len(outcome.doc.pages) == 1
    assert (drop / ".ecm" / "done" / "batch.pdf").read_bytes() == data


def test_a_file_that_breaks_the_pipeline_is_quarantined_and_the_others_go_on(tmp_path: Path, monkeypatch):
    real = hotfolder.ingest_paths

    def breaks_on_poison(paths, *args, **kwargs):
        def checked():
            for path in paths:
                if path.name == "poison.pdf":
                    raise RuntimeError("simulated bug in a stage")
                yield path
        return real(checked(), *args, **kwargs)

    monkeypatch.setattr(hotfolder, "ingest_paths", breaks_on_poison)
    drop, home = tmp_path / "scans", tmp_path / "home"
    drop.mkdir()
    for name, source in (("a.pdf", INVOICE), ("poison.pdf", LETTER), ("z.pdf", OTHER_INVOICE)):
        shutil.copy(source, drop / name)
    code, lines = run_once(drop, home)
    assert code == 0
    assert {Path(line["source"]).name: line["status"] for line in lines} == {
        "a.pdf": "stored", "poison.pdf": "quarantined", "z.pdf": "stored"}
    assert files_under(drop / ".ecm") == {"done/a.pdf", "done/z.pdf", "quarantine/poison.pdf",
                                          "quarantine/poison.pdf.reason.txt"}
    reason = (drop / ".ecm" / "quarantine" / "poison.pdf.reason.txt").read_text()
    assert reason.startswith("could not be processed (RuntimeError: simulated bug in a stage)")
    audit = CliRunner().invoke(app, ["audit", "--action", "quarantine", "--json"], env={"ECM_HOME": str(home)})
    assert [json.loads(x)["detail"]["source"] for x in audit.stdout.splitlines()] == [str(drop / "poison.pdf")]


def test_a_failing_store_stops_the_watch_and_leaves_the_files(tmp_path: Path, monkeypatch):
    def store_down(*args, **kwargs):
        raise StoreError("cannot write to the store: disk full")

    monkeypatch.setattr(hotfolder, "ingest_paths", store_down)
    drop = tmp_path / "scans"
    drop.mkdir()
    shutil.copy(INVOICE, drop / "invoice.pdf")
    result = CliRunner().invoke(app, ["watch", str(drop), "--once", "--interval", "0"],
                                env={"ECM_HOME": str(tmp_path / "home")})
    assert result.exit_code == 5
    assert "disk full" in result.output and "Traceback" not in result.output
    assert files_under(drop) == {"invoice.pdf"}


def test_not_a_folder_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(app, ["watch", str(tmp_path / "missing"), "--once"], env={"ECM_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "missing is not a folder" in " ".join(result.output.replace("│", " ").split())  # unwrap the error box


def test_sigterm_asks_for_a_clean_stop_and_a_second_ctrl_c_stops_at_once():
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    messages = []
    with stop_on_signals(stop, messages.append):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set() and messages
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before

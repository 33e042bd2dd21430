"""Legal coding in a real browser: a lead makes a batch and assigns it; a coder codes two
documents with the keyboard only and saves; the lead exports a Concordance DAT load file and
it parses. Screenshots go to docs/screenshots/coding*.png."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from ecm.backends import open_archive, open_executor
from ecm.config import load_config
from ecm.pipeline import ingest_paths
from tests.browser.conftest import PASSWORD, SCREENSHOTS, shot
from web.coding.loadfiles import parse_dat
from ecm.db import database_path
from web.users import Role, UserStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "documents"
DOCS = [SAMPLES / "letter_ashgrove_lease_renewal.pdf", SAMPLES / "contract_nda_larkspur_copperfield.pdf"]
IDS = [hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in DOCS]

pytestmark = pytest.mark.timeout(120)


class _NoIndex:
    """The server owns the search index; the batch is made from ids, so the test needs none."""

    def add(self, docs) -> None:
        pass


@pytest.fixture(scope="module")
def coding_setup(server):
    home = server["home"]
    users = UserStore(database_path(home))
    for name, role in (("lead", Role.admin), ("coder1", Role.coder), ("coder2", Role.coder)):
        if users.by_name(name) is None:
            users.add(name, role, PASSWORD)
    config = load_config(home=home)
    archive = open_archive(config)
    # Two born-digital documents through the real pipeline (no OCR: fast); duplicates if the
    # mailroom test already uploaded them, which is fine.
    executor = open_executor(config)
    try:
        list(ingest_paths(DOCS, config, executor, archive, _NoIndex(), actor="test"))
    finally:
        getattr(executor, "close", lambda: None)()
    assert all(archive.exists(i) for i in IDS)
    return server


def test_lead_assigns_coder_codes_by_keyboard_lead_exports_dat(sign_in, coding_setup, tmp_path):
    url = coding_setup["url"]
    # The lead makes a batch from two ids and gives it to coder1, QC to coder2.
    lead = sign_in("lead")
    lead.goto(url + "/coding")
    lead.fill("#batch-name", "Ashgrove lease dispute")
    lead.fill("#batch-ids", "\n".join(IDS))
    lead.select_option("#batch-coder", "coder1")
    lead.select_option("#batch-qc-coder", "coder2")
    lead.fill("#batch-prefix", "ASH")
    shot(lead, "coding-new-batch")
    lead.click("#create-batch")
    lead.wait_for_url(re.compile(r"/coding/batches/\d+$"))
    batch_url = lead.url
    assert lead.locator(".batch-docs tbody tr").count() == 2
    assert "ASH000001" in lead.locator(".batch-docs").inner_text()

    # The coder opens "My batches" and codes both documents without touching the mouse.
    coder = sign_in("coder1")
    coder.goto(url + "/coding")
    shot(coder, "coding-my-batches")
    coder.click("text=Start coding")
    coder.wait_for_url(re.compile(r"/doc/1$"))
    coder.wait_for_load_state("networkidle")
    coder.locator("#field-document_type input").first.focus()
    coder.keyboard.press("1")  # Letter
    assert coder.locator("#field-document_type input[value=Letter]").is_checked()
    coder.focus("#field-title")
    coder.keyboard.press("Control+A")
    coder.keyboard.type("Lease renewal")
    coder.focus("#field-author")
    coder.keyboard.type("Ashgrove, Helen")
    coder.locator("#field-privilege input[value='Not Privileged']").focus()
    coder.keyboard.press("a")  # Attorney-Client: now a basis is required
    coder.locator("#field-responsiveness input").first.focus()
    coder.keyboard.press("r")
    coder.keyboard.press("Control+Enter")  # save & next: refused, the basis is missing
    coder.wait_for_selector("#err-privilege_basis")
    assert "privilege basis" in coder.locator("#err-privilege_basis").inner_text()
    coder.wait_for_load_state("networkidle")
    coder.locator("#err-privilege_basis").scroll_into_view_if_needed()
    coder.screenshot(path=str(SCREENSHOTS / "coding-panel-error.png"))
    coder.focus("#field-privilege_basis")
    coder.keyboard.type("Legal advice")
    coder.focus("#field-privilege_description")
    coder.keyboard.type("Letter to counsel about the lease renewal")
    coder.keyboard.press("Control+Enter")
    coder.wait_for_url(re.compile(r"/doc/2$"))
    coder.wait_for_load_state("networkidle")
    assert coder.locator("#field-document_type input[value=Contract]").is_checked()  # pre-filled from extraction
    coder.focus("#field-issues input >> nth=0")
    coder.keyboard.press("5")  # Confidentiality
    coder.locator("#field-responsiveness input").first.focus()
    coder.keyboard.press("n")  # Non-Responsive
    coder.screenshot(path=str(SCREENSHOTS / "coding-panel.png"))  # the viewport: the panel is sticky
    coder.keyboard.press("Control+Enter")
    coder.wait_for_url(re.compile(r"finished=1"))
    assert coder.locator(".status-stored").count() == 2

    # Back to the first with the keyboard: k goes to the previous document.
    coder.goto(batch_url + "/doc/2")
    coder.locator("body").focus()
    coder.keyboard.press("k")
    coder.wait_for_url(re.compile(r"/doc/1$"))
    assert coder.locator("#field-title").input_value() == "Lease renewal"

    # The lead exports the DAT load file, and it parses.
    lead.goto(batch_url)
    shot(lead, "coding-batch")
    with lead.expect_download() as download:
        lead.click("#export-dat")
    path = tmp_path / "export.dat"
    download.value.save_as(path)
    records = parse_dat(path.read_bytes())
    assert [r["BEGBATES"] for r in records] == ["ASH000001", f"ASH{int(records[0]['ENDBATES'][3:]) + 1:06d}"]
    first, second = records
    assert (first["DOCTYPE"], first["TITLE"], first["AUTHOR"], first["PRIVILEGE"]) == (
        "Letter", "Lease renewal", "Ashgrove, Helen", "Attorney-Client")
    assert (second["DOCTYPE"], second["RESPONSIVENESS"], second["ISSUES"]) == (
        "Contract", "Non-Responsive", "Confidentiality")
    assert first["SHA256"] == hashlib.sha256(DOCS[0].read_bytes()).hexdigest()

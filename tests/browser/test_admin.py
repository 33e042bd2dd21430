"""The admin's journey in a real browser: add a user, put a document on legal hold from its
page, find it in the held list and the audit trail, look at the threshold page and the
dashboard. Screenshots: docs/screenshots/admin-*.png and dashboard.png.

The document is written straight into the server's store (not uploaded), so the mailroom
journey in test_browser.py still finds every sample new."""

from __future__ import annotations

import hashlib
import re

import pytest

from ecm.document import DocType, Document, FieldValue, Page, Word
from store import Archive, FsBlobStore
from tests.browser.conftest import PASSWORD, shot
from tests.test_web import _pdf_bytes
from ecm.db import database_path
from web.users import UserStore

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def held_doc(server) -> Document:
    users = UserStore(database_path(server["home"]))
    if users.by_name("admin") is None:
        users.add("admin", "admin", PASSWORD)
    archive = Archive(FsBlobStore(server["home"] / "store"))
    data = _pdf_bytes(["Harbour Lights Shipping Ltd", "Invoice HL-2025-0042", "Total 1,250.00"])
    sha = hashlib.sha256(data).hexdigest()
    archive.put_original(sha, data)
    # Where fpdf puts the lines (1 cm margins, 16 pt lines, Helvetica 12).
    words = [Word(text=t, bbox=(x0, 31, x1, 44), line=0)
             for t, x0, x1 in (("Harbour", 28, 73), ("Lights", 76, 108), ("Shipping", 111, 158), ("Ltd", 161, 178))]
    doc = Document(source="harbour-lights-HL-2025-0042.pdf", sha256=sha, size=len(data), media_type="application/pdf",
                   pages=[Page(number=1, width=612, height=792, unit="pt", source="text", words=words)],
                   doc_type=DocType(label="invoice", confidence=0.97),
                   fields={"vendor_name": FieldValue(value="Harbour Lights Shipping Ltd", confidence=0.95, page=1,
                                                     bbox=(28, 31, 178, 44)),
                           "invoice_number": FieldValue(value="HL-2025-0042", confidence=0.55, page=1,
                                                        bbox=(70, 47, 146, 60)),
                           "invoice_date": FieldValue(value="2025-06-30", confidence=0.9),
                           "total_amount": FieldValue(value="1250.00", confidence=0.92, page=1,
                                                      bbox=(56, 63, 96, 76))})
    return archive.save(doc, actor="system", action="ingest")


def test_admin_adds_a_user_holds_a_document_and_opens_the_dashboard(sign_in, server, held_doc):
    page = sign_in("admin")
    url = server["url"]
    page.goto(f"{url}/admin/users")
    page.fill("#new-name", "ann.lee")
    page.select_option("#new-role", "reviewer")
    page.click("#add-user button[type=submit]")
    page.wait_for_selector("#new-password")
    assert page.locator(".notice").inner_text().startswith("Added ann.lee (reviewer)")
    assert len(page.locator("#new-password").inner_text()) >= 12
    assert page.locator("#user-ann\\.lee").count() == 1
    shot(page, "admin-users")

    # Legal hold from the document's own page.
    page.goto(f"{url}/doc/{held_doc.id}")
    page.click("#hold-button")
    page.wait_for_url(re.compile(rf"/doc/{held_doc.id}\?saved=hold"))
    assert page.locator("#hold-state").inner_text() == "on legal hold"
    page.locator("#records").scroll_into_view_if_needed()
    shot(page, "admin-document-hold")

    # ... and in the list of held documents.
    page.goto(f"{url}/admin/holds")
    row = page.locator(f"#held-{held_doc.id}")
    assert "on hold" in row.inner_text() and "harbour-lights" in row.inner_text()
    shot(page, "admin-holds")

    page.goto(f"{url}/admin/audit?action=hold")
    assert "1 event" in page.locator(".summary").inner_text()
    assert "user:admin" in page.locator("#audit-rows").inner_text()
    page.goto(f"{url}/admin/audit")
    shot(page, "admin-audit")

    page.goto(f"{url}/admin/thresholds")
    assert page.locator("#threshold-preview tbody tr").count() >= 5
    shot(page, "admin-thresholds")

    page.click("nav.subnav >> text=Dashboard")
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert page.locator("#kpi-backlog .kpi-value").inner_text().strip().isdigit()
    assert page.locator("#chart-docs rect.chart-bar").count() == 30
    shot(page, "dashboard")

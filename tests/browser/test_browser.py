"""The three journeys in a real browser: the mailroom uploads the sample documents and watches
the batch finish; a clerk searches and opens a hit; a reviewer corrects a field by clicking
words on the page image, and the new value is shown and searchable. Screenshots of every page
go to docs/screenshots/."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.browser.conftest import shot

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "documents"
INVOICE = SAMPLES / "invoice_quillfeather_QS-2024-0173.pdf"
INVOICE_ID = hashlib.sha256(INVOICE.read_bytes()).hexdigest()[:16]

pytestmark = pytest.mark.timeout(300)


def test_1_sign_in_page(browser, server):
    page = browser.new_page(viewport={"width": 1360, "height": 700})
    page.goto(server["url"] + "/")
    assert "/signin" in page.url
    page.fill("#name", "clerk")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".alert").inner_text().startswith("Wrong user name or password")
    shot(page, "signin")
    page.close()


def test_2_mailroom_uploads_samples_and_watches_the_batch(sign_in, server):
    page = sign_in("mailroom")
    assert page.url.endswith("/mailroom")
    files = sorted(SAMPLES.iterdir())
    page.set_input_files("#files", [str(p) for p in files])
    assert page.locator("#chosen li").count() == len(files) + 1  # each file and the total
    shot(page, "mailroom")
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/mailroom/batches/b-"))
    page.wait_for_selector("#batch[data-finished=true]", state="attached", timeout=180_000)
    summary = page.locator("#batch-summary").inner_text()
    assert summary.startswith("Finished") and f"{len(files)} stored" in summary, summary
    assert page.locator("#results tbody tr").count() == len(files)
    assert page.locator("#results .status-stored").count() == len(files)
    assert "QS-2024-0173" in page.locator("#results").inner_text()
    shot(page, "batch")
    # The same files again: every one is a duplicate, nothing stored twice.
    page.goto(server["url"] + "/mailroom")
    page.set_input_files("#files", [str(INVOICE)])
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/mailroom/batches/b-"))
    page.wait_for_selector("#batch[data-finished=true]", state="attached", timeout=60_000)
    assert "1 duplicate" in page.locator("#batch-summary").inner_text()


def test_3_clerk_searches_and_opens_a_hit(sign_in, server):
    page = sign_in("clerk")
    page.fill("#q", "quillfeather")
    page.press("#q", "Enter")
    page.wait_for_selector(".hit")
    assert page.locator(".hit").count() >= 1
    shot(page, "search")
    page.click(f'.hit a[href="/doc/{INVOICE_ID}"]')
    page.wait_for_url(re.compile(f"/doc/{INVOICE_ID}$"))
    assert "QS-2024-0173" in page.locator("table.fields").inner_text()
    page.wait_for_load_state("networkidle")
    shot(page, "document")


def test_4_reviewer_corrects_a_field_by_clicking_words(sign_in, server):
    page = sign_in("reviewer")
    assert page.url.endswith("/review")
    shot(page, "review-queue")
    page.goto(f"{server['url']}/review/{INVOICE_ID}")
    page.wait_for_load_state("networkidle")
    field = page.locator("#value-vendor_name")
    field.click()
    # The extractor reads "Quillfeather Stationery Co."; the reviewer decides on the name
    # without the suffix, built from two clicked words (a real change to the value).
    page.locator('rect.word[data-text="Quillfeather"]').first.click()
    page.locator('rect.word[data-text="Stationery"]').first.click(modifiers=["Shift"])
    expected = "Quillfeather Stationery"
    assert field.input_value() == expected
    assert page.locator("input[name='page.vendor_name']").input_value() == "1"
    assert page.locator("input[name='bbox.vendor_name']").input_value().count(",") == 3
    page.fill("#value-po_number", "PO-77123")  # typed
    shot(page, "review")
    page.click("#save")
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator(".notice").inner_text().startswith("Saved as version 2")
    assert page.locator("#value-vendor_name").input_value() == expected
    assert "user:reviewer" in page.locator(".field-row", has=page.locator("#value-vendor_name")).inner_text()
    # The document view shows the new values, set by the reviewer; search finds the document by them.
    page.goto(f"{server['url']}/doc/{INVOICE_ID}")
    row = page.locator("#field-vendor_name").inner_text()
    assert expected in row and "user:reviewer" in row
    assert "PO-77123" in page.locator("#field-po_number").inner_text()
    page.goto(f"{server['url']}/?q=po:PO-77123")
    assert page.locator(".hit").count() == 1
    assert page.locator(f'.hit a[href="/doc/{INVOICE_ID}"]').count() == 1
    page.goto(f"{server['url']}/?q=po:PO-55812")  # the old value is gone from the index
    assert page.locator(".hit").count() == 0

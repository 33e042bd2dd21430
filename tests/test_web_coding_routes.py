"""Legal coding through the web app: a lead makes batches, coders code (each save a new record
version, audited with the changed fields), QC by a second coder, exports; roles and escaping."""

from __future__ import annotations

import re

import pytest

from tests.test_web import (  # noqa: F401 - fixtures
    XSS, anon, app, archive, client_as, fake_ingest, image_doc, index, pdf_doc, session_csrf, users,
)
from web.coding.loadfiles import parse_dat
from web.users import Role


@pytest.fixture()
def coder2(users):
    users.add("coder2", Role.coder, "password-of-coder2")
    return "coder2"


@pytest.fixture()
def lead(app):
    return client_as(app, "admin")


@pytest.fixture()
def coder(app):
    return client_as(app, "coder")


def _make_batch(lead, *doc_ids, qc_coder="", share="10", prefix="ABC", name="Lease dispute", seed="7", **extra):
    data = {"csrf": session_csrf(lead), "name": name, "ids": "\n".join(doc_ids), "coder": "coder",
            "qc_coder": qc_coder, "qc_share": share, "bates_prefix": prefix, "seed": seed} | extra
    return lead.post("/coding/batches", data=data)


def _batch_id(response) -> str:
    assert response.status_code == 303, response.text[:2000]
    return re.fullmatch(r"/coding/batches/(\d+)", response.headers["location"]).group(1)


def _coding_form(client, base="0", **values):
    data = {"csrf": session_csrf(client), "base": base, "document_type": "Letter", "page_count": "1",
            "privilege": "Not Privileged", "responsiveness": "Responsive", "go": "next"}
    data.update(values)
    return data


def test_lead_makes_a_batch_with_bates_numbers(lead, app, pdf_doc, image_doc, coder2):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, image_doc.id, qc_coder="coder2"))
    html = lead.get(f"/coding/batches/{batch_id}").text
    assert "ABC000001" in html and "ABC000002" in html and "Lease dispute" in html
    assert 'href="/coding/batches/%s/export?format=dat"' % batch_id in html
    assert "<script>alert" not in html  # the document name holds markup; it is escaped
    docs = app.state.coding.store.docs(int(batch_id))
    assert [(d.doc_id, d.bates_begin, d.bates_end) for d in docs] == [
        (pdf_doc.id, "ABC000001", "ABC000001"), (image_doc.id, "ABC000002", "ABC000002")]
    assert sum(1 for d in docs if d.qc_coder == "coder2") == 1  # ceil(10% of 2)
    # Numbers go on from the prefix's counter; a document keeps its numbers under a prefix.
    second = _batch_id(_make_batch(lead, image_doc.id, pdf_doc.id, name="Again", share="0"))
    assert [(d.doc_id, d.bates_begin) for d in app.state.coding.store.docs(int(second))] == [
        (image_doc.id, "ABC000002"), (pdf_doc.id, "ABC000001")]
    events = [e for e in app.state.ecm.archive.events() if e.action == "coding-batch"]
    assert len(events) == 2 and events[0].actor == "user:admin"


def test_batch_from_a_search(lead, app, pdf_doc, index):
    batch_id = _batch_id(lead.post("/coding/batches", data={
        "csrf": session_csrf(lead), "name": "From search", "query": "vendor:acme", "coder": "coder",
        "qc_share": "0", "bates_prefix": "SRCH"}))
    assert index.queries[-1][0] == "vendor:acme"
    assert [d.doc_id for d in app.state.coding.store.docs(int(batch_id))] == [pdf_doc.id]


@pytest.mark.parametrize("change, message", [
    ({"qc_coder": "coder"}, "nobody checks their own work"),
    ({"bates_prefix": "a b"}, "Bates prefix"),
    ({"coder": "clerk"}, "Choose the coder"),
    ({"ids": "not-an-id"}, "Not document ids"),
    ({"qc_share": "150"}, "percentage"),
    ({"name": ""}, "Give the batch a name"),
    ({"qc_coder": "", "qc_share": "10"}, "QC needs a second coder"),
])
def test_batch_form_errors(lead, pdf_doc, change, message):
    r = _make_batch(lead, pdf_doc.id, **change) if "ids" not in change else _make_batch(lead, **change)
    assert r.status_code == 400 and message in r.text


def test_coder_codes_with_prefill_errors_inline_and_versions(app, lead, coder, pdf_doc, image_doc, archive):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, image_doc.id, share="0"))
    home = coder.get("/coding").text
    assert f'href="/coding/batches/{batch_id}/doc/1"' in home and "Start coding" in home
    r = coder.get(f"/coding/batches/{batch_id}/doc/1")
    assert r.status_code == 200
    html = r.text
    assert 'name="document_type" value="Invoice" data-key="4" checked> <kbd>4</kbd> Invoice</label>' in html
    assert "<script>alert" not in html and "ACME &lt;script&gt;alert(1)&lt;/script&gt;" in html  # prefilled author
    assert 'data-text="&lt;script&gt;alert(1)&lt;/script&gt;"' in html and 'src="/static/coding.js"' in html
    assert 'href="/coding/batches/%s/doc/2" id="next-doc"' % batch_id in html
    assert any(e.action == "view" and e.detail.get("via") == "coding" for e in archive.events(doc_id=pdf_doc.id))
    # Privileged without a basis: refused, the error shown beside the field, nothing stored.
    r = coder.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(coder, privilege="Attorney-Client",
                                                                       title=XSS))
    assert r.status_code == 400
    assert 'id="err-privilege_basis"' in r.text and "Give the privilege basis" in r.text
    assert f'value="&lt;script&gt;' in r.text and "<script>alert" not in r.text
    assert archive.versions(pdf_doc.id) == [1]
    # A valid coding: a new record version, the coding kept by doc + version + coder, audited.
    form = _coding_form(coder, privilege="Attorney-Client", privilege_basis="Advice of counsel",
                        privilege_description="Letter to counsel", title="Lease", author="Smith, John\nDoe, Jane",
                        document_date="2024-03", document_date_estimated="1", issues=["Fraud", "Damages"])
    r = coder.post(f"/coding/batches/{batch_id}/doc/1", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/coding/batches/{batch_id}/doc/2"
    assert archive.versions(pdf_doc.id) == [1, 2]
    stored = app.state.coding.store.final(int(batch_id), pdf_doc.id)
    assert (stored.version, stored.coder, stored.kind) == (2, "coder", "code")
    assert stored.values["author"] == ["Smith, John", "Doe, Jane"] and stored.values["issues"] == ["Damages", "Fraud"]
    assert stored.values["document_date"] == "2024-03-00" and stored.values["document_date_estimated"] is True
    record = archive.get(pdf_doc.id)  # the record itself carries the final coding (ecm show, reindex, export)
    assert record.coding.coder == "user:coder" and record.coding.values["privilege"] == "Attorney-Client"
    event = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "coding"][-1]
    assert event.actor == "user:coder" and event.detail["version"] == 2 and event.detail["batch"] == int(batch_id)
    # The first coding: every value set, from nothing.
    assert event.detail["changed"]["title"] == [None, "Lease"] and event.detail["changed"]["document_type"] == [
        None, "Letter"]
    assert "cc" not in event.detail["changed"]
    # Reopened: the saved coding; a second save only lists what changed.
    html = coder.get(f"/coding/batches/{batch_id}/doc/1").text
    assert 'value="Lease"' in html and f'name="base" value="{stored.id}"' in html
    r = coder.post(f"/coding/batches/{batch_id}/doc/1", data=form | {"base": str(stored.id), "title": "Lease 2",
                                                                      "go": "stay"})
    assert r.status_code == 303 and r.headers["location"] == f"/coding/batches/{batch_id}/doc/1?saved=1"
    event = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "coding"][-1]
    assert event.detail["changed"] == {"title": ["Lease", "Lease 2"]}
    # A form opened before that save is stale.
    r = coder.post(f"/coding/batches/{batch_id}/doc/1", data=form | {"base": str(stored.id)})
    assert r.status_code == 409 and "while you had it open" in r.text
    # The last document: save & next goes back to the batch.
    r = coder.post(f"/coding/batches/{batch_id}/doc/2", data=_coding_form(coder))
    assert r.headers["location"] == f"/coding/batches/{batch_id}?finished=1"


def test_only_the_assigned_coder_codes(app, lead, pdf_doc, coder2):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, share="0"))
    other = client_as(app, "coder2")
    assert other.get(f"/coding/batches/{batch_id}").status_code == 403
    assert other.get(f"/coding/batches/{batch_id}/doc/1").status_code == 403
    r = other.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(other))
    assert r.status_code == 403
    assert f"/coding/batches/{batch_id}" not in other.get("/coding").text
    clerk = client_as(app, "clerk")
    assert clerk.get("/coding").status_code == 403 and "Your role" in clerk.get("/coding").text
    assert client_as(app, "coder").get(f"/coding/batches/{batch_id}/export?format=dat").status_code == 403


def test_qc_by_a_second_coder_side_by_side_and_resolved(app, lead, coder, pdf_doc, image_doc, coder2, archive):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, image_doc.id, qc_coder="coder2", share="100"))
    checker = client_as(app, "coder2")
    # Not before the first coding; never by the coder themself.
    assert checker.get(f"/coding/batches/{batch_id}/qc/1").status_code == 404
    coder.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(coder, title="Lease", issues=["Fraud"]))
    assert coder.get(f"/coding/batches/{batch_id}/qc/1").status_code == 403
    assert f"/coding/batches/{batch_id}/qc/1" in checker.get("/coding").text
    html = checker.get(f"/coding/batches/{batch_id}/qc/1").text
    assert "Quality check" in html and 'value="Lease"' not in html  # blind: the first coding is not shown
    r = checker.post(f"/coding/batches/{batch_id}/qc/1", data=_coding_form(
        checker, document_type="Memo", title="lease", issues=["Fraud"]))
    assert r.status_code == 303 and r.headers["location"].endswith("/qc/1/compare")
    html = checker.get(r.headers["location"]).text
    assert re.search(r'<tr class="differs">\s*<th scope="row">Document type</th>', html)
    assert re.search(r'<tr class="same">\s*<th scope="row">Title / subject</th>', html)  # case only
    assert "of 6</strong> filled fields agree" in html or "5 of 6" in html
    r = checker.post(f"/coding/batches/{batch_id}/qc/1/resolve",
                     data={"csrf": session_csrf(checker), "pick.document_type": "qc"})
    assert r.status_code == 303
    final = app.state.coding.store.final(int(batch_id), pdf_doc.id)
    assert final.kind == "resolved" and final.coder == "coder2" and final.values["document_type"] == "Memo"
    [result] = app.state.coding.store.qc_results(int(batch_id))
    assert (result.coder, result.qc_coder, result.disagreements) == ("coder", "coder2", ["document_type"])
    assert result.agreed == result.compared - 1
    assert "Resolved by coder2" in checker.get(f"/coding/batches/{batch_id}/qc/1/compare").text
    figures = lead.get("/coding").text
    assert re.search(r"<td>coder</td><td>1</td>", figures) and f"{result.agreed} of {result.compared}" in figures
    assert [e.detail["kind"] for e in archive.events(doc_id=pdf_doc.id) if e.action == "coding"] == [
        "code", "qc", "resolved"]


def test_exports(app, lead, coder, pdf_doc, image_doc, archive):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, image_doc.id, share="0", prefix="XYZ"))
    coder.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(
        coder, privilege="Work Product", privilege_basis="Prepared for litigation",
        privilege_description="Notes prepared for litigation", author="Smith, John", document_date="2024-01-02"))
    r = lead.get(f"/coding/batches/{batch_id}/export?format=dat")
    assert r.status_code == 200 and "loadfile.dat" in r.headers["content-disposition"]
    [record] = parse_dat(r.content)  # only coded documents
    assert (record["BEGBATES"], record["DOCDATE"], record["PRIVILEGE"], record["SHA256"], record["NATIVE"]) == (
        "XYZ000001", "20240102", "Work Product", pdf_doc.sha256, "NATIVES\\XYZ000001.pdf")
    assert lead.get(f"/coding/batches/{batch_id}/export?format=opt").content == \
        b"XYZ000001,VOL001,IMAGES\\XYZ000001.tif,Y,,,1\r\n"
    log = lead.get(f"/coding/batches/{batch_id}/export?format=privlog").content.decode("utf-8-sig")
    assert log.splitlines()[1].startswith("XYZ000001,2024-01-02,\"Smith, John\",,Letter,Work Product,")
    assert lead.get(f"/coding/batches/{batch_id}/export?format=json").json()["documents"][0]["doc_id"] == pdf_doc.id
    assert lead.get(f"/coding/batches/{batch_id}/export?format=csv").content.startswith(b"\xef\xbb\xbfdoc_id,")
    assert lead.get(f"/coding/batches/{batch_id}/export?format=exe").status_code == 400
    assert lead.get("/coding/batches/999/export").status_code == 404
    exports = [e for e in archive.events() if e.action == "export"]
    assert exports and exports[0].detail["what"] == "coding-dat" and exports[0].detail["documents"] == [pdf_doc.id]


def test_posts_need_the_csrf_token(app, lead, coder, pdf_doc):
    batch_id = _batch_id(_make_batch(lead, pdf_doc.id, share="0"))
    r = coder.post(f"/coding/batches/{batch_id}/doc/1", data=_coding_form(coder) | {"csrf": "forged"})
    assert r.status_code == 403
    r = lead.post("/coding/batches", data={"csrf": "forged", "name": "x", "ids": pdf_doc.id, "coder": "coder"})
    assert r.status_code == 403


def test_nav_shows_coding_to_coders_and_admins(app, coder, lead):
    assert 'href="/coding"' in coder.get("/").text and 'href="/coding"' in lead.get("/").text
    assert 'href="/coding"' not in client_as(app, "clerk").get("/").text

"""Tags in the web UI and the JSON API, on a real embedded index: added and removed on the
document page (a new version, audited, re-indexed: found by ``tag:`` and counted in the facet),
refused with a message when malformed, escaped everywhere, and closed to the mailroom."""

from __future__ import annotations

import re

import pytest

from tests.test_web import (  # noqa: F401 - fixtures
    XSS, archive, client_as, pdf_doc, real_app, real_index, session_csrf, users,
)


def _tags_form(client, **data) -> dict:
    return {"csrf": session_csrf(client), **data}


def _tag_facet(html: str) -> list[tuple[str, int]]:
    block = re.search(r'<ul id="facet-tags">(.*?)</ul>', html, re.S)
    if block is None:
        return []
    return [(label, int(count)) for label, count in
            re.findall(r'<span class="label">([^<]*)</span><span class="count">(\d+)</span>', block.group(1))]


def test_clerk_adds_and_removes_tags_found_by_search_and_counted(real_app, pdf_doc, archive):  # noqa: F811
    clerk = client_as(real_app, "clerk")
    r = clerk.post(f"/doc/{pdf_doc.id}/tags", data=_tags_form(clerk, add="Urgent, audit-2026"))
    assert r.status_code == 303 and r.headers["location"] == f"/doc/{pdf_doc.id}?tagged=1#tags"
    doc = archive.get(pdf_doc.id)
    assert doc.tags == ["audit-2026", "urgent"] and doc.version == 2
    tag_events = [e for e in archive.events(doc_id=pdf_doc.id) if e.action == "tag"]
    assert tag_events[0].actor == "user:clerk" and tag_events[0].detail["added"] == ["audit-2026", "urgent"]

    page = clerk.get(f"/doc/{pdf_doc.id}?tagged=1").text
    assert "Tags saved." in page and 'href="/?q=tag%3Aurgent"' in page
    assert 'name="remove" value="urgent"' in page

    found = clerk.get("/", params={"q": "tag:urgent"}).text
    assert f'href="/doc/{pdf_doc.id}"' in found
    assert _tag_facet(found) == [("audit-2026", 1)]  # urgent is in the query: shown as a filter to remove
    assert 'aria-label="remove urgent"' in found
    assert _tag_facet(clerk.get("/", params={"q": "acme"}).text) == [("audit-2026", 1), ("urgent", 1)]

    r = clerk.post(f"/doc/{pdf_doc.id}/tags", data=_tags_form(clerk, remove="urgent"))
    assert r.status_code == 303 and archive.get(pdf_doc.id).tags == ["audit-2026"]
    assert "No documents match" in clerk.get("/", params={"q": "tag:urgent"}).text
    assert _tag_facet(clerk.get("/", params={"q": "acme"}).text) == [("audit-2026", 1)]


def test_review_facet_on_the_search_page(real_app, pdf_doc):  # noqa: F811
    clerk = client_as(real_app, "clerk")
    html = clerk.get("/", params={"q": "acme"}).text
    block = re.search(r'<ul id="facet-review">(.*?)</ul>', html, re.S).group(1)
    assert "needs review" in block and 'href="/?q=acme+review%3Aneeds-review"' in block


def test_bad_tag_is_refused_with_an_escaped_message_and_nothing_changes(real_app, pdf_doc, archive):  # noqa: F811
    clerk = client_as(real_app, "clerk")
    r = clerk.post(f"/doc/{pdf_doc.id}/tags", data=_tags_form(clerk, add=f"fine, {XSS}"))
    assert r.status_code == 400
    assert "may use only letters a-z" in r.text and 'id="tag-error"' in r.text
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert archive.versions(pdf_doc.id) == [1] and archive.get(pdf_doc.id).tags == []
    r = clerk.post(f"/doc/{pdf_doc.id}/tags", data=_tags_form(clerk, add="two words"))
    assert r.status_code == 400 and "use - instead of spaces" in r.text


def test_tags_from_an_old_record_are_escaped_in_pages(real_app, pdf_doc, archive, real_index):  # noqa: F811
    # Written around ecm.tags (an import, a hand-edited record): pages must still escape it.
    odd = archive.save(pdf_doc.model_copy(update={"tags": [XSS]}), actor="test", action="edit")
    real_index.add([odd])
    clerk = client_as(real_app, "clerk")
    for html in (clerk.get(f"/doc/{pdf_doc.id}").text, clerk.get("/", params={"q": "acme"}).text):
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_mailroom_may_not_tag(real_app, pdf_doc, archive):  # noqa: F811
    mailroom = client_as(real_app, "mailroom")
    csrf = session_csrf(mailroom)
    r = mailroom.post(f"/doc/{pdf_doc.id}/tags", data={"csrf": csrf, "add": "urgent"})
    assert r.status_code == 403 and "Your role (mailroom)" in r.text
    r = mailroom.post(f"/api/documents/{pdf_doc.id}/tags", json={"add": ["urgent"]}, headers={"x-csrf-token": csrf})
    assert r.status_code == 403 and "error" in r.json()
    assert mailroom.get(f"/api/documents/{pdf_doc.id}/tags").status_code == 403
    assert archive.get(pdf_doc.id).tags == []


@pytest.mark.parametrize("role", ["coder", "reviewer", "admin"])
def test_other_reading_roles_may_tag(real_app, pdf_doc, archive, role):  # noqa: F811
    client = client_as(real_app, role)
    r = client.post(f"/doc/{pdf_doc.id}/tags", data=_tags_form(client, add=role))
    assert r.status_code == 303 and archive.get(pdf_doc.id).tags == [role]


def test_a_form_without_csrf_is_refused(real_app, pdf_doc, archive):  # noqa: F811
    clerk = client_as(real_app, "clerk")
    assert clerk.post(f"/doc/{pdf_doc.id}/tags", data={"add": "urgent", "csrf": "forged"}).status_code == 403
    assert archive.get(pdf_doc.id).tags == []


def test_api_reads_and_changes_tags(real_app, pdf_doc, archive, real_index):  # noqa: F811
    clerk = client_as(real_app, "clerk")
    headers = {"x-csrf-token": session_csrf(clerk)}
    assert clerk.get(f"/api/documents/{pdf_doc.id}/tags").json() == {"id": pdf_doc.id, "version": 1, "tags": []}
    r = clerk.post(f"/api/documents/{pdf_doc.id}/tags", json={"add": ["Disputed", "urgent"]}, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"id": pdf_doc.id, "version": 2, "tags": ["disputed", "urgent"],
                        "added": ["disputed", "urgent"], "removed": []}
    assert [h.id for h in real_index.search("tag:disputed").hits] == [pdf_doc.id]
    r = clerk.post(f"/api/documents/{pdf_doc.id}/tags", json={"remove": "disputed"}, headers=headers)
    assert r.json()["tags"] == ["urgent"] and real_index.search("tag:disputed").total == 0
    assert clerk.get(f"/api/documents/{pdf_doc.id}").json()["tags"] == ["urgent"]

    bad = clerk.post(f"/api/documents/{pdf_doc.id}/tags", json={"add": ["<b>"]}, headers=headers)
    assert bad.status_code == 400 and "may use only letters" in bad.json()["error"]
    bad = clerk.post(f"/api/documents/{pdf_doc.id}/tags", json={"add": "x", "remove": [1]}, headers=headers)
    assert bad.status_code == 400 and '"remove" must be a list of tags' in bad.json()["error"]
    bad = clerk.post(f"/api/documents/{pdf_doc.id}/tags", content=b"add=x", headers=headers)
    assert bad.status_code == 400 and "JSON object" in bad.json()["error"]
    assert clerk.post(f"/api/documents/{pdf_doc.id}/tags", json={"add": ["x"]}).status_code == 403  # no CSRF header
    assert clerk.post("/api/documents/0000000000000000/tags", json={"add": ["x"]}, headers=headers).status_code == 404
    assert archive.versions(pdf_doc.id) == [1, 2, 3]


def test_tag_routes_are_walked_with_the_reading_roles(real_app):
    from tests.test_web_routes import _roles, _routes
    from web.users import Role

    found = {(method, path): _roles(route) for method, path, route in _routes(real_app) if path.endswith("/tags")}
    readers = {Role.clerk, Role.coder, Role.reviewer, Role.admin}
    assert found == {("POST", "/doc/{doc_id}/tags"): readers, ("GET", "/api/documents/{doc_id}/tags"): readers,
                     ("POST", "/api/documents/{doc_id}/tags"): readers}

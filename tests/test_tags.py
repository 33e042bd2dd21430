"""ecm.tags: tag names are normalised or refused with a message; a change is a new version, an
audit event and a re-index; no change writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecm.document import Document
from ecm.errors import ExitCode
from ecm.tags import MAX_TAG_CHARS, MAX_TAGS, TagError, normalise_tag, retag, split_tags, tag_document
from search import EmbeddedIndex
from store import Archive, FsBlobStore


@pytest.mark.parametrize("raw, tag", [("urgent", "urgent"), ("  Audit-2026 ", "audit-2026"), ("a", "a"),
                                      ("v1.2_final", "v1.2_final"), ("x" * MAX_TAG_CHARS, "x" * MAX_TAG_CHARS)])
def test_tags_are_trimmed_and_lower_cased(raw, tag):
    assert normalise_tag(raw) == tag


@pytest.mark.parametrize("raw, message", [
    ("", "cannot be empty"),
    ("   ", "cannot be empty"),
    ("x" * (MAX_TAG_CHARS + 1), f"use at most {MAX_TAG_CHARS}"),
    ("two words", "use - instead of spaces"),
    ("<script>", "only letters a-z, digits"),
    ("-leading", "only letters a-z, digits"),
    ("trailing.", "only letters a-z, digits"),
    ("tag:x", "only letters a-z, digits"),
    ("société", "only letters a-z, digits"),
])
def test_bad_tags_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(TagError, match=message) as caught:
        normalise_tag(raw)
    assert caught.value.exit_code == ExitCode.usage
    assert "\n" not in str(caught.value)


def test_split_tags():
    assert split_tags(" urgent, Audit-2026 ,,") == ["urgent", "Audit-2026"]
    assert split_tags("") == []


def _doc(**update) -> Document:
    return Document(id="0123456789abcdef", source="a.pdf", sha256="0" * 64).model_copy(update=update)


def test_retag_adds_removes_and_says_what_changed():
    doc, added, removed = retag(_doc(tags=["draft", "urgent"]), add=["Audit-2026", "urgent"], remove=["draft", "nope"])
    assert doc.tags == ["audit-2026", "urgent"] and added == ["audit-2026"] and removed == ["draft"]
    with pytest.raises(TagError, match="add and remove the same tag"):
        retag(_doc(), add=["x"], remove=["X"])
    with pytest.raises(TagError, match=f"at most {MAX_TAGS} tags"):
        retag(_doc(), add=[f"t{i}" for i in range(MAX_TAGS + 1)])


@pytest.fixture()
def stored(tmp_path: Path) -> tuple[Archive, EmbeddedIndex, Document]:
    archive = Archive(FsBlobStore(tmp_path / "store"))
    doc = archive.save(_doc(id=None, sha256="ab" * 32), actor="test", action="ingest")
    index = EmbeddedIndex(tmp_path / "index")
    index.add([doc])
    return archive, index, doc


def test_tag_document_makes_a_version_an_audit_event_and_reindexes(stored):
    archive, index, doc = stored
    saved, added, removed = tag_document(archive, index, doc, ["Urgent"], actor="user:clerk")
    assert saved.version == 2 and archive.get(doc.id).tags == ["urgent"] and added == ["urgent"] and removed == []
    assert [h.id for h in index.search("tag:urgent").hits] == [doc.id]
    events = [e for e in archive.events(doc_id=doc.id) if e.action == "tag"]
    assert len(events) == 1 and events[0].actor == "user:clerk"
    assert events[0].detail == {"version": 2, "added": ["urgent"], "removed": []}
    saved, _, removed = tag_document(archive, index, saved, remove=["urgent"], actor="cli")
    assert saved.version == 3 and saved.tags == [] and removed == ["urgent"]
    assert index.search("tag:urgent").total == 0


def test_no_change_writes_nothing_and_a_bad_tag_changes_nothing(stored):
    archive, index, doc = stored
    same, added, removed = tag_document(archive, index, doc, remove=["absent"], actor="cli")
    assert same.version == 1 and added == removed == []
    with pytest.raises(TagError):
        tag_document(archive, index, doc, ["ok", "not ok"], actor="cli")
    assert archive.versions(doc.id) == [1]
    assert not [e for e in archive.events(doc_id=doc.id) if e.action == "tag"]


def test_old_records_without_tags_or_acceptance_still_read():
    record = {"source": "a.pdf", "sha256": "0" * 64, "id": "0123456789abcdef", "version": 3}
    doc = Document.model_validate(record)
    assert doc.tags == [] and doc.accepted is None

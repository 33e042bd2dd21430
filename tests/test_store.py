import hashlib
from pathlib import Path

import pytest

from ecm.document import Document, DocType, FieldValue, Page, Word
from ecm.errors import IntegrityError, NotFound, StoreError
from store import Archive, FsBlobStore, doc_id_for


def make_doc(text: str = "Invoice 42 total 10.00") -> Document:
    data = text.encode()
    words = [Word(text=t, bbox=(10.0 * i, 10, 10.0 * i + 8, 20), line=0) for i, t in enumerate(text.split())]
    return Document(
        source="a.pdf", sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type="application/pdf",
        pages=[Page(number=1, width=612, height=792, unit="pt", source="text", words=words)],
        doc_type=DocType(label="invoice", confidence=0.9),
        fields={"invoice_number": FieldValue(value="42", confidence=0.8, page=1, bbox=(10, 10, 18, 20))},
        searchable_pdf=b"%PDF-1.7 fake",
    )


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(FsBlobStore(tmp_path))


def test_blob_roundtrip_and_sorted_keys(tmp_path: Path):
    blobs = FsBlobStore(tmp_path)
    blobs.put("b/2", b"two")
    blobs.put("b/1", b"one")
    blobs.put("a", b"x")
    assert blobs.get("b/1") == b"one"
    assert list(blobs.keys("b/")) == ["b/1", "b/2"]
    assert blobs.exists("a") and not blobs.exists("c")
    with pytest.raises(NotFound):
        blobs.get("c")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", ""])
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str):
    with pytest.raises(StoreError):
        FsBlobStore(tmp_path).put(key, b"x")


def test_write_is_atomic_no_temp_files_left(tmp_path: Path):
    blobs = FsBlobStore(tmp_path)
    blobs.put("k", b"1")
    blobs.put("k", b"2")
    assert blobs.get("k") == b"2"
    assert [p.name for p in tmp_path.iterdir()] == ["k"]


def test_records_are_versioned_and_pages_kept(archive: Archive):
    doc = make_doc()
    first = archive.save(doc, actor="test", action="ingest")
    assert first.id == doc_id_for(doc.sha256) and first.version == 1
    edited = first.model_copy(update={"fields": {"invoice_number": FieldValue(value="43", confidence=1.0, source="user:ann")}})
    second = archive.save(edited, actor="user:ann", action="edit")
    assert second.version == 2
    assert archive.versions(first.id) == [1, 2]
    assert archive.get(first.id).fields["invoice_number"].value == "43"
    old = archive.get(first.id, version=1)
    assert old.fields["invoice_number"].value == "42"
    assert old.pages[0].words[0].text == "Invoice"
    assert archive.searchable_pdf(first.id) == b"%PDF-1.7 fake"
    assert list(archive.ids()) == [first.id]


def test_unknown_document_and_version(archive: Archive):
    with pytest.raises(NotFound, match="ecm search"):
        archive.get("0123456789abcdef")
    saved = archive.save(make_doc(), actor="t", action="ingest")
    with pytest.raises(NotFound, match="no version 7"):
        archive.get(saved.id, version=7)


def test_original_is_checked_on_every_read(archive: Archive, tmp_path: Path):
    data = b"original bytes"
    sha = hashlib.sha256(data).hexdigest()
    archive.put_original(sha, data)
    assert archive.get_original(sha) == data
    path = tmp_path / Archive.original_key(sha)
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="corrupted"):
        archive.get_original(sha)


def test_original_with_wrong_checksum_is_refused(archive: Archive):
    with pytest.raises(IntegrityError):
        archive.put_original("0" * 64, b"abc")


def test_audit_trail_is_append_only_and_filterable(archive: Archive):
    saved = archive.save(make_doc(), actor="cli", action="ingest")
    archive.audit_action("user:bob", "view", saved.id)
    archive.audit_action("cli", "reindex", None)
    events = list(archive.events())
    assert [e.action for e in events] == ["ingest", "view", "reindex"]
    assert [e.action for e in archive.events(doc_id=saved.id)] == ["ingest", "view"]
    assert events[1].actor == "user:bob"


def test_quarantine_keeps_bytes_and_reason(archive: Archive):
    data = b"<html>not a pdf</html>"
    doc = Document(source="x.pdf", sha256=hashlib.sha256(data).hexdigest(), size=len(data)).quarantine("not a document")
    archive.quarantine(doc, data, actor="cli")
    [entry] = list(archive.quarantined())
    assert entry["reason"] == "not a document" and entry["source"] == "x.pdf"
    assert archive.get_original(doc.sha256) == data

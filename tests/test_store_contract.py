"""One contract for every BlobStore (filesystem and S3) and the Archive on top of each; then what
only S3 promises: checksums on read, retries, encryption at rest, legal hold and retention.

S3 runs against a real SeaweedFS (the session's ``s3_server``, tests/servers.py), a fresh bucket
per test, so tests never see each other's objects.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from ecm.document import DocType, Document, FieldValue, Page, Word
from ecm.errors import ConfigError, IntegrityError, NotFound, StoreError
from store import Archive, FsBlobStore, doc_id_for
from store.blobs import BlobStore
from store.s3 import PART_SIZE, S3BlobStore, make_client
from tests.servers import S3Server, free_ports

MB = 1024 * 1024


def fresh_bucket() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["fs", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "fs":
        return FsBlobStore(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("s3_server")  # started only when an s3 case runs
    return S3BlobStore(server.client(), fresh_bucket())


@pytest.fixture
def s3(s3_server: S3Server) -> S3BlobStore:
    return S3BlobStore(s3_server.client(), fresh_bucket())


@pytest.fixture
def locked(s3_server: S3Server) -> S3BlobStore:
    return S3BlobStore(s3_server.client(), fresh_bucket(), object_lock=True)


# the BlobStore contract ------------------------------------------------------
def test_is_a_blobstore(blobs: BlobStore):
    assert isinstance(blobs, BlobStore)


@pytest.mark.parametrize("key", ["a", "docs/0123/record/000001.json", "names/with spaces, ü and +=&?#.txt"])
def test_put_then_get_returns_the_same_bytes(blobs: BlobStore, key: str):
    blobs.put(key, b"hello")
    assert blobs.get(key) == b"hello"


def test_large_object_roundtrip(blobs: BlobStore):
    data = os.urandom(12 * MB)  # above PART_SIZE: S3 takes the multipart path
    blobs.put("originals/big", data)
    assert blobs.get("originals/big") == data


def test_overwrite_replaces_the_bytes(blobs: BlobStore):
    blobs.put("k", b"first")
    blobs.put("k", b"second, longer")
    assert blobs.get("k") == b"second, longer"
    assert list(blobs.keys("")) == ["k"]


def test_keys_are_sorted_recursive_and_limited_to_the_prefix(blobs: BlobStore):
    for key in ["docs/b/2", "docs/a/record/000002.json", "audit/x", "docs/a/record/000001.json",
                "docs/ab/z", "docsx/y", "docs/a/pages.json"]:
        blobs.put(key, b"x")
    assert list(blobs.keys("docs/")) == [
        "docs/a/pages.json", "docs/a/record/000001.json", "docs/a/record/000002.json", "docs/ab/z", "docs/b/2"]
    assert list(blobs.keys("docs/a/record/")) == ["docs/a/record/000001.json", "docs/a/record/000002.json"]
    # A prefix without '/' names a folder or a key, never a partial name ("docs/a" is not "docs/ab").
    assert list(blobs.keys("docs/a")) == ["docs/a/pages.json", "docs/a/record/000001.json", "docs/a/record/000002.json"]
    assert list(blobs.keys("docs/a/pages.json")) == ["docs/a/pages.json"]
    assert list(blobs.keys("nothing/")) == []
    assert list(blobs.keys("")) == sorted(blobs.keys(""))


def test_keys_are_in_key_order_across_folder_boundaries(blobs: BlobStore):
    keys = ["p/a0", "p/a/b", "p/a-c", "p/a/a/z", "p/b"]
    for key in keys:
        blobs.put(key, b"x")
    assert list(blobs.keys("p/")) == sorted(keys)


def test_exists(blobs: BlobStore):
    blobs.put("a/b", b"x")
    assert blobs.exists("a/b")
    assert not blobs.exists("a/c")
    assert not blobs.exists("a")  # a folder is not an object


def test_missing_object_is_not_found(blobs: BlobStore):
    with pytest.raises(NotFound):
        blobs.get("no/such/key")


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs", "a//b", "a/./b", ""])
def test_invalid_keys_are_rejected(blobs: BlobStore, key: str):
    for operation in (lambda: blobs.put(key, b"x"), lambda: blobs.get(key), lambda: blobs.exists(key)):
        with pytest.raises(StoreError, match="invalid object key"):
            operation()


def test_bytes_are_kept_exactly(blobs: BlobStore):
    data = bytes(range(256)) * 4 + b"\r\n\x00\x1a\xff\xfe"
    blobs.put("bin", data)
    assert blobs.get("bin") == data


def test_empty_object(blobs: BlobStore):
    blobs.put("empty", b"")
    assert blobs.get("empty") == b""
    assert blobs.exists("empty")
    assert list(blobs.keys("")) == ["empty"]


# the Archive on every backend --------------------------------------------------
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


def test_archive_keeps_every_version(blobs: BlobStore):
    archive = Archive(blobs)
    doc = make_doc()
    archive.put_original(doc.sha256, b"Invoice 42 total 10.00")
    first = archive.save(doc, actor="cli", action="ingest")
    corrected = FieldValue(value="43", confidence=1.0, source="user:ann")
    edited = first.model_copy(update={"fields": {"invoice_number": corrected}})
    archive.save(edited, actor="user:ann", action="edit")
    assert first.id == doc_id_for(doc.sha256)
    assert archive.versions(first.id) == [1, 2]
    assert archive.get(first.id).fields["invoice_number"].value == "43"
    old = archive.get(first.id, version=1)
    assert old.fields["invoice_number"].value == "42" and old.pages[0].words[0].text == "Invoice"
    assert archive.searchable_pdf(first.id) == b"%PDF-1.7 fake"
    assert archive.get_original(doc.sha256) == b"Invoice 42 total 10.00"
    assert list(archive.ids()) == [first.id]


def test_archive_audit_trail(blobs: BlobStore):
    archive = Archive(blobs)
    saved = archive.save(make_doc(), actor="cli", action="ingest")
    archive.audit_action("user:bob", "view", saved.id)
    archive.audit_action("cli", "reindex", None)
    assert [e.action for e in archive.events()] == ["ingest", "view", "reindex"]
    assert [e.actor for e in archive.events(doc_id=saved.id)] == ["cli", "user:bob"]


def test_archive_quarantine(blobs: BlobStore):
    archive = Archive(blobs)
    data = b"<html>not a pdf</html>"
    doc = Document(source="x.pdf", sha256=hashlib.sha256(data).hexdigest(), size=len(data)).quarantine("not a document")
    archive.quarantine(doc, data, actor="cli")
    [entry] = list(archive.quarantined())
    assert entry["reason"] == "not a document" and entry["source"] == "x.pdf"
    assert archive.get_original(doc.sha256) == data
    assert [e.action for e in archive.events()] == ["quarantine"]


# S3: the bucket, checksums, multipart ------------------------------------------
def test_bucket_is_created_versioned(s3: S3BlobStore, s3_server: S3Server):
    raw = s3_server.client()
    assert raw.bucket_exists(s3.bucket)
    assert raw.get_bucket_versioning(s3.bucket).status == "Enabled"
    assert S3BlobStore(raw, s3.bucket).bucket == s3.bucket  # opening an existing bucket is fine


def test_large_object_is_uploaded_in_parts_with_its_checksum(s3: S3BlobStore, s3_server: S3Server):
    data = os.urandom(12 * MB)
    s3.put("big", data)
    stat = s3_server.client().stat_object(s3.bucket, "big")
    assert stat.etag.endswith(f"-{math.ceil(len(data) / PART_SIZE)}")  # a multipart ETag ends in -<parts>
    assert stat.metadata["x-amz-meta-sha256"] == hashlib.sha256(data).hexdigest()


def test_corrupted_object_is_refused_not_served(s3: S3BlobStore, s3_server: S3Server):
    s3.put("docs/x/record/000001.json", b'{"total": "10.00"}')
    raw = s3_server.client()
    old = raw.stat_object(s3.bucket, "docs/x/record/000001.json")
    # Someone rewrites the bytes behind the store's back and keeps the old checksum.
    tampered = b'{"total": "99.00"}'
    raw.put_object(s3.bucket, "docs/x/record/000001.json", io.BytesIO(tampered), len(tampered),
                   metadata={"sha256": old.metadata["x-amz-meta-sha256"]})
    with pytest.raises(IntegrityError, match="corrupted.*restore it from an earlier version"):
        s3.get("docs/x/record/000001.json")
    # ...and the earlier version the message points to is still there (the bucket is versioned).
    earlier = raw.get_object(s3.bucket, "docs/x/record/000001.json", version_id=old.version_id)
    assert earlier.read() == b'{"total": "10.00"}'


def test_object_without_checksum_is_refused(s3: S3BlobStore, s3_server: S3Server):
    s3_server.client().put_object(s3.bucket, "foreign", io.BytesIO(b"abc"), 3)
    with pytest.raises(IntegrityError, match="no sha256 metadata"):
        s3.get("foreign")


def test_invalid_bucket_name_is_a_config_error(s3_server: S3Server):
    with pytest.raises(ConfigError, match="bucket name"):
        S3BlobStore(s3_server.client(), "Not_A_Bucket")


# S3: retries (a transport that injects failures in front of the real server) ------
class ScriptedTransport(urllib3.PoolManager):
    """Records every request and answers the first ``fail`` requests whose URL contains ``match``
    with an S3 error, passing the rest to the real server (httpx's MockTransport, for minio)."""

    def __init__(self, *, fail: int = 0, match: str = "", status: int = 503, code: str = "SlowDown"):
        super().__init__(retries=False)
        self.fail, self.match, self.status, self.code = fail, match, status, code
        self.requests: list[tuple[str, str, dict]] = []

    def urlopen(self, method, url, redirect=True, **kw):
        self.requests.append((method, url, dict(kw.get("headers") or {})))
        if self.fail and self.match in url:
            self.fail -= 1
            body = f"<Error><Code>{self.code}</Code><Message>injected</Message></Error>".encode()
            return urllib3.HTTPResponse(body=io.BytesIO(body), status=self.status, preload_content=False,
                                        headers={"Content-Type": "application/xml"})
        return super().urlopen(method, url, redirect=redirect, **kw)

    def count(self, method: str, match: str) -> int:
        return sum(1 for m, url, _ in self.requests if m == method and match in url)


def scripted_client(server: S3Server, transport: ScriptedTransport, secret_key: str | None = None) -> Minio:
    return Minio(server.endpoint, access_key=server.access_key, secret_key=secret_key or server.secret_key,
                 secure=False, http_client=transport)


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError")])
def test_slowdown_and_server_errors_are_retried(s3_server: S3Server, status: int, code: str):
    transport = ScriptedTransport(fail=2, match="/retried", status=status, code=code)
    store = S3BlobStore(scripted_client(s3_server, transport), fresh_bucket(), backoff=0.01)
    store.put("retried", b"data")
    assert transport.count("PUT", "/retried") == 3
    assert store.get("retried") == b"data"


def test_retries_end_in_a_store_error_that_says_what_failed(s3_server: S3Server):
    transport = ScriptedTransport(fail=100, match="/key")
    store = S3BlobStore(scripted_client(s3_server, transport), fresh_bucket(), retries=2, backoff=0.01)
    with pytest.raises(StoreError, match=r"kept failing \(SlowDown.*after 3 attempts"):
        store.put("key", b"x")
    assert transport.count("PUT", "/key") == 3


def test_not_found_and_access_denied_are_not_retried(s3_server: S3Server):
    transport = ScriptedTransport()
    store = S3BlobStore(scripted_client(s3_server, transport), fresh_bucket(), backoff=0.01)
    with pytest.raises(NotFound):
        store.get("missing")
    assert transport.count("GET", "/missing") == 1

    denied = ScriptedTransport()
    with pytest.raises(StoreError, match="denied access.*ECM_S3_SECRET_KEY"):
        S3BlobStore(scripted_client(s3_server, denied, secret_key="wrong"), fresh_bucket(), backoff=0.01)
    assert len(denied.requests) == 1


def test_dead_endpoint_fails_fast_with_an_actionable_message():
    [port] = free_ports(1)  # nothing listens there: connection refused
    client = make_client(f"127.0.0.1:{port}", "key", "secret", secure=False, timeout=2)
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        S3BlobStore(client, "bucket", retries=3, backoff=0.01)
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert f"http://127.0.0.1:{port}" in message and "after 4 attempts" in message
    assert "running" in message and "ECM_S3_ENDPOINT" in message


class FlakyListing:
    """A client stub whose listing breaks after two keys once, to test resuming after the last key."""

    def __init__(self, names: list[str]):
        self.names, self.broken, self.calls = names, False, []

    def bucket_exists(self, bucket):
        return True

    def get_bucket_versioning(self, bucket):
        return type("Versioning", (), {"status": "Enabled"})()

    def get_object_lock_config(self, bucket):
        return None

    def list_objects(self, bucket, prefix=None, recursive=False, start_after=None, **kw):
        self.calls.append(start_after)
        for name in self.names:
            if start_after and name <= start_after:
                continue
            if name == self.names[2] and not self.broken:
                self.broken = True
                raise urllib3.exceptions.ProtocolError("connection reset")
            yield type("Obj", (), {"object_name": name})()


def test_listing_resumes_after_the_last_key_on_a_transient_error():
    stub = FlakyListing(["a/1", "a/2", "a/3", "a/4"])
    store = S3BlobStore(stub, "bucket", backoff=0.001)  # type: ignore[arg-type]
    assert list(store.keys("a/")) == ["a/1", "a/2", "a/3", "a/4"]
    assert stub.calls == [None, "a/2"]


# S3: server-side encryption ----------------------------------------------------------
def test_sse_sends_the_header_and_the_server_reports_it(s3_server: S3Server):
    transport = ScriptedTransport()
    store = S3BlobStore(scripted_client(s3_server, transport), fresh_bucket(), sse=True)
    store.put("small", b"secret")
    store.put("large", os.urandom(PART_SIZE + MB))  # multipart: the header goes on the initiation
    creating = [headers for method, url, headers in transport.requests
                if (method == "PUT" and url.endswith("/small")) or (method == "POST" and "/large?uploads" in url)]
    assert len(creating) == 2
    assert all(h.get("X-Amz-Server-Side-Encryption") == "AES256" for h in creating)
    stat = s3_server.client().stat_object(store.bucket, "small")
    assert stat.metadata["x-amz-server-side-encryption"] == "AES256"
    assert store.get("small") == b"secret" and store.get("large")


def _volume_bytes_contain(data_dir: Path, needle: bytes) -> bool:
    for path in data_dir.rglob("*.dat"):
        if needle in path.read_bytes():
            return True
    return False


def test_seaweedfs_encrypts_sse_objects_at_rest(s3_server: S3Server):
    """SeaweedFS implements SSE-S3: the plaintext of an SSE object never reaches its volume files."""
    secret, clear = (f"MARKER-{name}-{uuid.uuid4().hex}".encode() for name in ("sse", "clear"))
    encrypted = S3BlobStore(s3_server.client(), fresh_bucket(), sse=True)
    plain = S3BlobStore(s3_server.client(), fresh_bucket())
    # Random padding, so the volume server has nothing to compress and the marker stays whole.
    encrypted.put("doc", os.urandom(2000) + secret + os.urandom(2000))
    plain.put("doc", os.urandom(2000) + clear + os.urandom(2000))
    deadline = time.monotonic() + 5
    while not _volume_bytes_contain(s3_server.data_dir, clear):  # proves the search looks in the right place
        assert time.monotonic() < deadline, "the unencrypted control object never appeared in the volume files"
        time.sleep(0.1)
    assert not _volume_bytes_contain(s3_server.data_dir, secret)


# S3: legal hold, retention, delete ---------------------------------------------------
def _versions(raw: Minio, bucket: str, key: str) -> list[str]:
    return [o.version_id for o in raw.list_objects(bucket, prefix=key, include_version=True) if o.object_name == key]


def test_legal_hold_blocks_delete_until_released(locked: S3BlobStore, s3_server: S3Server):
    raw = s3_server.client()
    locked.put("originals/held", b"evidence")
    locked.set_legal_hold("originals/held", True)
    with pytest.raises(StoreError, match="cannot delete 'originals/held'.*under a legal hold"):
        locked.delete("originals/held")
    assert locked.get("originals/held") == b"evidence"
    # The server enforces it too, not only our pre-check.
    [version] = _versions(raw, locked.bucket, "originals/held")
    with pytest.raises(S3Error, match="AccessDenied"):
        raw.remove_object(locked.bucket, "originals/held", version_id=version)

    locked.set_legal_hold("originals/held", False)
    locked.delete("originals/held")
    assert not locked.exists("originals/held")
    assert _versions(raw, locked.bucket, "originals/held") == []


def test_compliance_retention_blocks_delete_and_cannot_be_shortened(locked: S3BlobStore, s3_server: S3Server):
    raw = s3_server.client()
    locked.put("originals/kept", b"record")
    until = datetime.now(timezone.utc) + timedelta(days=1)
    locked.set_retention("originals/kept", until)
    with pytest.raises(StoreError, match="retained in COMPLIANCE mode until"):
        locked.delete("originals/kept")
    with pytest.raises(StoreError, match="never shortened"):
        locked.set_retention("originals/kept", until - timedelta(hours=1))
    [version] = _versions(raw, locked.bucket, "originals/kept")
    with pytest.raises(S3Error, match="AccessDenied"):  # the server refuses both, too
        raw.remove_object(locked.bucket, "originals/kept", version_id=version)
    with pytest.raises(S3Error, match="AccessDenied"):
        raw.set_object_retention(locked.bucket, "originals/kept", Retention(COMPLIANCE, until - timedelta(hours=1)),
                                 version_id=version)
    locked.set_retention("originals/kept", until + timedelta(days=1))  # extending is allowed
    retention = raw.get_object_retention(locked.bucket, "originals/kept")
    assert retention.mode == COMPLIANCE and retention.retain_until_date > until
    assert locked.get("originals/kept") == b"record"


def test_retention_ends_at_its_date(locked: S3BlobStore):
    locked.put("short", b"x")
    locked.set_retention("short", datetime.now(timezone.utc) + timedelta(seconds=4))
    with pytest.raises(StoreError, match="retained"):
        locked.delete("short")
    deadline = time.monotonic() + 20
    while True:  # the server keeps retention dates to the second
        try:
            locked.delete("short")
            break
        except StoreError:
            assert time.monotonic() < deadline
            time.sleep(0.25)
    assert not locked.exists("short")


def test_delete_removes_every_version(s3: S3BlobStore, s3_server: S3Server):
    s3.put("k", b"v1")
    s3.put("k", b"v2")
    s3.delete("k")
    assert _versions(s3_server.client(), s3.bucket, "k") == []
    with pytest.raises(NotFound):
        s3.get("k")
    with pytest.raises(NotFound):
        s3.delete("k")


def test_hold_and_retention_need_an_object_lock_bucket(s3: S3BlobStore, s3_server: S3Server):
    """SeaweedFS would accept a hold on such a bucket and not enforce it; the store refuses instead."""
    s3.put("k", b"x")
    with pytest.raises(StoreError, match="without object lock"):
        s3.set_legal_hold("k", True)
    with pytest.raises(StoreError, match="without object lock"):
        s3.set_retention("k", datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ConfigError, match="exists without object lock"):
        S3BlobStore(s3_server.client(), s3.bucket, object_lock=True)


def test_hold_on_a_missing_object_is_not_found(locked: S3BlobStore):
    with pytest.raises(NotFound):
        locked.set_legal_hold("missing", True)
    with pytest.raises(ValueError, match="timezone-aware"):
        locked.set_retention("missing", datetime(2099, 1, 1))


# S3: configuration from the environment ------------------------------------------------
def test_from_env_connects(s3_server: S3Server):
    store = S3BlobStore.from_env(fresh_bucket(), env=s3_server.env())
    store.put("k", b"x")
    url_env = {**s3_server.env(), "ECM_S3_ENDPOINT": f"http://{s3_server.endpoint}"}
    del url_env["ECM_S3_SECURE"]
    assert S3BlobStore.from_env(store.bucket, env=url_env).get("k") == b"x"


@pytest.mark.parametrize(("env", "message"), [
    ({}, "ECM_S3_ENDPOINT, ECM_S3_ACCESS_KEY, ECM_S3_SECRET_KEY"),
    ({"ECM_S3_ENDPOINT": "h:1", "ECM_S3_ACCESS_KEY": "a"}, "needs the environment variables ECM_S3_SECRET_KEY"),
    ({"ECM_S3_ENDPOINT": "h:1", "ECM_S3_ACCESS_KEY": "a", "ECM_S3_SECRET_KEY": "s", "ECM_S3_SECURE": "maybe"},
     "not a boolean"),
    ({"ECM_S3_ENDPOINT": "https://h:1", "ECM_S3_ACCESS_KEY": "a", "ECM_S3_SECRET_KEY": "s", "ECM_S3_SECURE": "false"},
     "contradicts"),
    ({"ECM_S3_ENDPOINT": "http://h:1/path", "ECM_S3_ACCESS_KEY": "a", "ECM_S3_SECRET_KEY": "s"}, "without a path"),
])
def test_from_env_rejects_incomplete_settings_before_connecting(env: dict[str, str], message: str):
    with pytest.raises(ConfigError, match=message):
        S3BlobStore.from_env("bucket", env=env)

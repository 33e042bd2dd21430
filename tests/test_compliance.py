"""Legal hold, retention, deletion, fixity (`ecm verify`) and `ecm migrate --to s3`."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecm.cli import app
from ecm.errors import StoreError
from store import Archive, FsBlobStore, S3BlobStore
from tests.conftest import need_data
from tests.test_store import make_doc

runner = CliRunner()
FUTURE = datetime.now(timezone.utc) + timedelta(days=365)


def saved(archive: Archive) -> str:
    doc = make_doc()
    archive.put_original(doc.sha256, b"Invoice 42 total 10.00")
    return archive.save(doc, actor="test", action="ingest").id


@pytest.fixture
def fs_archive(tmp_path: Path) -> Archive:
    return Archive(FsBlobStore(tmp_path))


def test_held_document_cannot_be_deleted_until_released(fs_archive: Archive):
    doc_id = saved(fs_archive)
    fs_archive.hold(doc_id, True, actor="cli")
    with pytest.raises(StoreError, match="legal hold"):
        fs_archive.delete(doc_id, actor="cli")
    assert fs_archive.exists(doc_id)
    fs_archive.hold(doc_id, False, actor="cli")
    fs_archive.delete(doc_id, actor="cli")
    assert not fs_archive.exists(doc_id)
    actions = [e.action for e in fs_archive.events(doc_id=doc_id)]
    assert actions == ["ingest", "hold", "release", "delete"]


def test_retention_blocks_delete_and_can_only_be_extended(fs_archive: Archive):
    doc_id = saved(fs_archive)
    fs_archive.retain(doc_id, FUTURE, actor="cli")
    with pytest.raises(StoreError, match="retained until"):
        fs_archive.delete(doc_id, actor="cli")
    with pytest.raises(StoreError, match="only be extended"):
        fs_archive.retain(doc_id, FUTURE - timedelta(days=10), actor="cli")
    fs_archive.retain(doc_id, FUTURE + timedelta(days=10), actor="cli")
    assert fs_archive.holds(doc_id)["retain_until"].startswith((FUTURE + timedelta(days=10)).date().isoformat())


def test_verify_finds_changed_pages_and_originals(fs_archive: Archive, tmp_path: Path):
    doc_id = saved(fs_archive)
    assert fs_archive.verify(doc_id) == []
    (tmp_path / "docs" / doc_id / "pages.json").write_text("[]")
    [problem] = fs_archive.verify(doc_id)
    assert "pages.json" in problem and "checksum" in problem
    original = next((tmp_path / "originals").rglob("*"))
    while original.is_dir():
        original = next(original.iterdir())
    original.write_bytes(b"tampered")
    assert any("corrupted" in p for p in fs_archive.verify(doc_id))


def test_s3_object_lock_makes_the_server_refuse_deletes(s3_server):
    blobs = S3BlobStore(s3_server.client(), f"lock-{uuid.uuid4().hex[:10]}", object_lock=True)
    archive = Archive(blobs)
    doc_id = saved(archive)
    archive.hold(doc_id, True, actor="cli")
    record_key = next(blobs.keys(f"docs/{doc_id}/record/"))
    with pytest.raises(StoreError):
        blobs.delete(record_key)  # around the archive: the storage server itself refuses
    with pytest.raises(StoreError, match="legal hold"):
        archive.delete(doc_id, actor="cli")
    edited = archive.save(archive.get(doc_id), actor="user:ann", action="edit")
    with pytest.raises(StoreError):  # a version written while held is held too
        blobs.delete(f"docs/{doc_id}/record/{edited.version:06d}.json")


def cli(home: Path, *args: str, env: dict | None = None):
    return runner.invoke(app, ["--home", str(home), *args], env={"ECM_HOME": str(home), **(env or {})})


def test_cli_migrate_to_s3_copies_and_verifies(tmp_path: Path, s3_server):
    home = tmp_path / "home"
    pdf = tmp_path / "in.pdf"
    shutil.copy(need_data() / "badinput" / "xss-text-layer.pdf", pdf)
    [line] = [json.loads(x) for x in cli(home, "ingest", "--json", str(pdf)).stdout.splitlines()]
    bucket = f"migr-{uuid.uuid4().hex[:10]}"
    env = s3_server.env() | {"ECM_STORE_BUCKET": bucket}
    result = cli(home, "migrate", "--to", "s3", env=env)
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output
    target = Archive(S3BlobStore(s3_server.client(), bucket))
    assert target.get(line["id"]).sha256 == line["sha256"]
    assert target.verify(line["id"]) == []
    # With the store switched to S3 by configuration only, the CLI reads the migrated record.
    shown = cli(home, "show", "--json", line["id"], env=env | {"ECM_STORE_KIND": "s3"})
    assert shown.exit_code == 0 and json.loads(shown.stdout)["sha256"] == line["sha256"]


def test_cli_verify_exit_code_and_hold_commands(tmp_path: Path):
    home = tmp_path / "home"
    pdf = tmp_path / "in.pdf"
    shutil.copy(need_data() / "badinput" / "xss-text-layer.pdf", pdf)
    [line] = [json.loads(x) for x in cli(home, "ingest", "--json", str(pdf)).stdout.splitlines()]
    assert cli(home, "verify").exit_code == 0
    assert cli(home, "hold", line["id"]).exit_code == 0
    refused = cli(home, "delete", "--yes", line["id"])
    assert refused.exit_code == 5 and "legal hold" in refused.output
    assert cli(home, "retain", line["id"], "--until", "not-a-date").exit_code == 2
    assert cli(home, "hold", "--release", line["id"]).exit_code == 0
    assert cli(home, "delete", "--yes", line["id"]).exit_code == 0
    assert json.loads(cli(home, "search", "--json", "ACME").stdout)["total"] == 0
    # a tampered store fails verification with the store exit code
    [line] = [json.loads(x) for x in cli(home, "ingest", "--json", str(pdf)).stdout.splitlines()]
    (home / "store" / "docs" / line["id"] / "pages.json").write_text("[]")
    result = cli(home, "verify")
    assert result.exit_code == 5 and "PROBLEM" in result.output

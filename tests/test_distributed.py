"""The Executor contract on both implementations: the local process pool and Celery workers
through a real Redis (`ecm worker` processes started by the test run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ingest
from ecm.cli import app
from ecm.config import Config
from ecm.distributed import CeleryExecutor
from ecm.errors import BadInput, ConfigError
from ecm.executor import LocalExecutor
from tests.conftest import need_data

FILES = ["receipts-multipage.tif", "cmyk.pdf", "bomb-60000x60000.png", "jbig2.pdf"]


@pytest.fixture(params=["local", "celery"])
def executor(request):
    if request.param == "local":
        with LocalExecutor(workers=2) as ex:
            yield ex
    else:
        with CeleryExecutor(request.getfixturevalue("ecm_worker"), page_timeout=300) as ex:
            yield ex


def groups():
    config = Config()
    for name in FILES:
        path = need_data() / "badinput" / name
        doc, jobs = ingest.open_document(path, config.limits, config.ocr)
        yield (name, doc), jobs


def test_results_in_input_order_with_pages_read(executor):
    out = list(executor.map_groups(groups(), ingest.ocr_page, window=2))
    assert [name for (name, _), _ in out] == FILES
    by_name = {name: (doc, results) for (name, doc), results in out}
    tif_doc, tif_pages = by_name["receipts-multipage.tif"]
    assert [r.page.number for r in tif_pages] == [1, 2, 3]
    assert all(len(r.page.words) > 10 and r.pdf.startswith(b"%PDF") for r in tif_pages)
    assert by_name["bomb-60000x60000.png"][1] == []  # quarantined at opening: no jobs sent
    assert by_name["cmyk.pdf"][1] == []  # text layer: nothing to OCR
    [jbig2] = by_name["jbig2.pdf"][1]
    assert jbig2.page.source == "ocr" and len(jbig2.page.words) > 100


def test_a_bad_page_is_reported_for_its_document_only(executor, tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    good = need_data() / "badinput" / "receipt-exif-orientation-6.jpg"
    jobs = [
        ("broken", [ingest.PageJob(str(broken), "image/png", 1, 300)]),
        ("good", ingest.open_document(good, Config().limits, Config().ocr)[1]),
    ]
    out = dict(executor.map_groups(jobs, ingest.ocr_page))
    assert isinstance(out["broken"], BadInput)
    assert not isinstance(out["good"], BaseException) and out["good"][0].page.words


def test_unreachable_queue_is_a_clear_error():
    with pytest.raises(ConfigError, match="127.0.0.1:1.*ECM_REDIS_URL"):
        CeleryExecutor("redis://127.0.0.1:1/0")


def test_ingest_through_workers_is_configuration_only(ecm_worker, tmp_path: Path):
    home = tmp_path / "home"
    receipt = tmp_path / "r.jpg"
    shutil.copy(need_data() / "badinput" / "receipt-rotated-90.jpg", receipt)
    env = {"ECM_HOME": str(home), "ECM_QUEUE_KIND": "celery", "ECM_REDIS_URL": ecm_worker}
    result = CliRunner().invoke(app, ["ingest", "--json", str(receipt)], env=env)
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["status"] == "stored"
    shown = json.loads(CliRunner().invoke(app, ["show", "--json", line["id"]], env=env).stdout)
    assert shown["pages"][0]["rotation"] in (90, 270) and len(shown["pages"][0]["words"]) > 20

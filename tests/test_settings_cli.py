"""One review threshold for the web and the command line: the admin sets it on the web, and
`ecm reindex` / `ecm review` (typer's CliRunner, the same ECM_HOME) work to it."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from ecm.cli import app as cli_app
from ecm.document import DocType, Document, FieldValue
from tests.test_web import (  # noqa: F401 - fixtures
    app, archive, client_as, fake_ingest, index, pdf_doc, users,
)

runner = CliRunner()


def _review_ids(home, env: dict[str, str] | None = None) -> set[str]:
    env = {"ECM_HOME": str(home), **(env or {})}
    assert runner.invoke(cli_app, ["--home", str(home), "reindex"], env=env).exit_code == 0  # the index's review state
    result = runner.invoke(cli_app, ["--home", str(home), "review", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return {json.loads(line)["id"] for line in result.stdout.splitlines() if line.startswith("{")}


def test_threshold_set_on_the_web_is_the_one_ecm_review_uses(app, archive, tmp_path, monkeypatch):
    monkeypatch.delenv("ECM_REVIEW_THRESHOLD", raising=False)
    # An invoice read with 60% confidence in its type, every field sure: only the threshold decides.
    doc = archive.save(Document(
        source="inv.pdf", sha256="ab" * 32, media_type="application/pdf", doc_type=DocType(label="invoice", confidence=0.6),
        fields={"vendor_name": FieldValue(value="Acme", confidence=0.99),
                "invoice_number": FieldValue(value="A-1", confidence=0.99),
                "invoice_date": FieldValue(value="2026-01-05", confidence=0.99),
                "total_amount": FieldValue(value="10.00", confidence=0.99)}), actor="test", action="ingest")
    home = tmp_path  # the web app's ECM_HOME: its store is the archive above
    assert doc.id in _review_ids(home)  # the configured 0.85
    admin = client_as(app, "admin")
    page = admin.get("/admin/thresholds")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert admin.post("/admin/thresholds", data={"csrf": csrf, "threshold": "0.5"}).status_code == 200
    assert doc.id not in _review_ids(home)  # the admin's 0.5, in another process's configuration
    assert doc.id in _review_ids(home, {"ECM_REVIEW_THRESHOLD": "0.9"})  # the environment comes first
    admin.post("/admin/thresholds", data={"csrf": csrf, "reset": "1"})
    assert doc.id in _review_ids(home)  # back to the configuration's

"""Ingest benchmark: documents/s through the store-and-index step, for every store x index pair.

OCR would dominate (about 1 page/s per core, DESIGN.md), so the documents are read beforehand:
the synthetic documents of ``bench/search_bench.py`` (pages with words, type, fields), each with
its own original bytes (``--original-kb``, random, so the sha256 and the id are real). Each
document then goes through exactly what ``ecm.pipeline.ingest_paths`` does to a new document
after reading it: the duplicate check (``Archive.exists``), ``put_original``, ``Archive.save``
(pages, record, audit event) and ``Index.add([doc])``, one document at a time.

Pairs, all in one run on the same documents: store fs (a folder) or s3 (SeaweedFS, started as
``tests/servers.py`` starts it), index embedded (tantivy folder) or elasticsearch (noida-db,
likewise). Prints one JSON object with documents/s and ratios to fs + embedded.

    .venv/bin/python bench/ingest_bench.py --docs 500
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from elasticsearch import Elasticsearch  # noqa: E402

from ecm.document import Document  # noqa: E402
from search import EmbeddedIndex, Index  # noqa: E402
from search.elasticsearch import ElasticsearchIndex  # noqa: E402
from search_bench import generate_documents  # noqa: E402
from store import Archive, FsBlobStore, S3BlobStore, doc_id_for  # noqa: E402
from tests.servers import running_elasticsearch, running_seaweedfs  # noqa: E402

__all__ = ["main", "store_and_index"]


def store_and_index(doc: Document, original: bytes, archive: Archive, index: Index) -> str:
    """What ``ingest_paths`` does with a document once it is read (its "stored" and "duplicate" branches)."""
    if archive.exists(doc_id_for(doc.sha256)):
        archive.audit_action("bench", "duplicate", doc_id_for(doc.sha256), source=doc.source)
        return "duplicate"
    archive.put_original(doc.sha256, original)
    doc = archive.save(doc, actor="bench", action="ingest")
    index.add([doc])
    return "stored"


def prepared_documents(count: int, original_kb: int, seed: int) -> list[tuple[Document, bytes]]:
    """Read documents with original bytes whose sha256 they carry (id: its first 16 hex digits)."""
    out = []
    for n, doc in enumerate(generate_documents(count, seed)):
        original = random.Random(seed * 7919 + n).randbytes(original_kb * 1024)
        digest = hashlib.sha256(original).hexdigest()
        out.append((doc.model_copy(update={"sha256": digest, "id": None}), original))
    return out


def _run(docs: list[tuple[Document, bytes]], archive: Archive, index: Index) -> dict[str, Any]:
    started = time.perf_counter()
    outcomes = [store_and_index(doc, original, archive, index) for doc, original in docs]
    elapsed = time.perf_counter() - started
    assert outcomes.count("stored") == len(docs), "every benchmark document is new"
    return {"seconds": round(elapsed, 2), "docs_per_s": round(len(docs) / elapsed, 1),
            "ms_per_doc": round(1000 * elapsed / len(docs), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--original-kb", type=int, default=100, help="size of each original (a scanned page: ~100 KB)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    docs = prepared_documents(args.docs, args.original_kb, args.seed)
    with ExitStack() as stack:
        base = Path(tempfile.mkdtemp(prefix="ecm-ingest-bench-"))
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        s3 = stack.enter_context(running_seaweedfs(base / "seaweedfs"))
        es = stack.enter_context(running_elasticsearch(base / "noida"))
        stores: dict[str, Callable[[str], Archive]] = {
            "fs": lambda name: Archive(FsBlobStore(base / name / "store")),
            "s3": lambda name: Archive(S3BlobStore(s3.client(), name.replace("_", "-"))),
        }
        indexes: dict[str, Callable[[str], Index]] = {
            "embedded": lambda name: EmbeddedIndex(base / name / "index"),
            "elasticsearch": lambda name: ElasticsearchIndex(Elasticsearch(es.url, request_timeout=120),
                                                             name.replace("_", "-")),
        }
        results: dict[str, dict[str, Any]] = {}
        for store_kind, open_store in stores.items():
            for index_kind, open_index in indexes.items():
                name = f"bench-{store_kind}-{index_kind}"
                results[f"{store_kind}+{index_kind}"] = _run(docs, open_store(name), open_index(name))
        reference = results["fs+embedded"]["docs_per_s"]
        for result in results.values():
            result["vs_fs_embedded"] = round(result["docs_per_s"] / reference, 3)
        report = {
            "what": "store + index of pre-read documents, one at a time as ingest_paths does (no OCR)",
            "docs": args.docs,
            "original_kb": args.original_kb,
            "pages_per_doc": round(sum(len(d.pages) for d, _ in docs) / len(docs), 2),
            "cpus": len(os.sched_getaffinity(0)),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "results": results,
            "ratios": {
                "s3/fs (embedded index)": round(results["s3+embedded"]["docs_per_s"] / reference, 3),
                "s3/fs (elasticsearch index)": round(results["s3+elasticsearch"]["docs_per_s"]
                                                     / results["fs+elasticsearch"]["docs_per_s"], 3),
                "elasticsearch/embedded (fs store)": round(results["fs+elasticsearch"]["docs_per_s"] / reference, 3),
                "elasticsearch/embedded (s3 store)": round(results["s3+elasticsearch"]["docs_per_s"]
                                                           / results["s3+embedded"]["docs_per_s"], 3),
            },
        }
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
